// What this tab knows: the last /sandbox/state answer, what it is looking at, and lookups of
// the people and channels in that answer.

export const view = {
  me: null,
  channel: null,
  tab: "messages",
  state: null,
  modalKey: null,
  lastSeen: {},
  busy: false,
  refreshTimer: null,
  wantRefresh: false,
};

export function user(id) {
  return (view.state?.users || []).find((u) => u.id === id);
}

export function displayName(id) {
  if (id === "USLACKBOT") return "Slackbot";
  const u = user(id);
  return u ? (u.is_bot ? u.name : u.name) : id;
}

export function channelById(id) {
  const st = view.state;
  if (!st) return null;
  if (st.channel && st.channel.id === id) return st.channel;
  return st.channels.find((c) => c.id === id)
    || (st.directory || []).find((c) => c.id === id) || null;
}

export function humans() {
  return (view.state?.users || []).filter((u) => !u.is_bot);
}

export function tzOf(id) {
  return user(id)?.tz || "UTC";
}

/** How the current reader sees ids, for mrkdwn.js and blockkit.js. */
export function names() {
  const me = view.state?.me;
  const usergroup = (id) => (view.state?.usergroups || []).find((g) => g.id === id)?.handle;
  return { me, tz: tzOf(me), displayName, channel: channelById, people: humans, usergroup };
}
