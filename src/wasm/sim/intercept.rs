//! The learner acts on a message in flight: a click on its dot drops it, as a lossy
//! network would. The drop is one of the page's inputs, journaled like a crash, so going
//! back over it and forward again drops the same message at the same point.

use super::*;

#[wasm_bindgen(js_class = SimCluster)]
impl SimCluster {
    /// Drop message `id` (the `id` of its `send` event, with its duplicate if the network
    /// made one) while it is in the air: it never arrives. The page gets a `lost` event
    /// with `byYou` and the log a fault. Returns false, and changes nothing, when the
    /// message is no longer in flight (it arrived, or the network had dropped it).
    #[wasm_bindgen(js_name = dropMessage)]
    pub fn drop_message(&mut self, id: f64) -> bool {
        let id = id.max(0.0) as u64;
        self.collect();
        if !self.flying.iter().any(|a| a.id == id && a.seq.is_some()) {
            return false;
        }
        self.record(Action::Drop(id));
        let at = self.c.now();
        let mut dropped = false;
        let mut k = 0;
        while k < self.flying.len() {
            if self.flying[k].id != id {
                k += 1;
                continue;
            }
            let a = self.flying.remove(k);
            if a.seq.is_some_and(|s| self.c.drop_message(s)) {
                dropped = true;
            }
            self.ae_repairs.remove(&id);
            self.out.push(PageEvent::Lost {
                id,
                at,
                to: a.to.to_string(),
                by_you: true,
            });
        }
        self.collect();
        dropped
    }
}
