// Imported from the installed package exactly as an app does; no Vite configuration.
import { Replica } from 'ringlet';

(async () => {
  const relay = new URLSearchParams(location.search).get('relay');
  try {
    const r = await Replica.open({ cluster: 'vite', relay, storage: 'memory', n: 1, r: 1, w: 1 });
    await r.put('greeting', { from: 'vite' });
    const { values } = await r.get('greeting');
    await r.close();
    window.result = { values };
  } catch (e) {
    window.result = { error: `${e.code ?? e.name}: ${e.message}` };
  }
})();
