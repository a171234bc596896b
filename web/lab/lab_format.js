// Number formats and the small drawing helpers the lab's views share.
const pct = (x) => `${(100 * x).toFixed(1)}%`;

// A "latest wins" guard for a view's control changes: begin() -> a token; current(token)
// says whether no newer change has begun since.
function latestWins() {
  let last = 0;
  return { begin: () => ++last, current: (token) => token === last };
}

// A result number into an element: its text and its exact value (data-value, for tests).
function showValue(el, value, text) {
  el.dataset.value = String(value);
  el.textContent = text;
}

export { pct, latestWins, showValue };
