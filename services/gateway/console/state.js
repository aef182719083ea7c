// Only what several modules read or write; anything else lives in the one module that uses it.

export const state = {
  token: "",
  customer: "",
  channels: new Set(),
  view: 0, // bumped on every timeline (re)load, so late answers for an old view are dropped
};
