// The one app state object: who is signed in, the access token (memory only, never
// storage), and what the views show. Modules import it; nothing else is global.
export const app = {
  token: null, // access token, in memory only
  user: null, // GET /auth/me
  refreshing: null, // the one refresh in flight, shared by concurrent 401s
  notice: null, // a message for the sign-in page ("your session ended…")
  linkToken: null, // the token of a mailed link, moved here off the address bar
  pendingLink: null, // a provider sign-in waiting for the existing account's password
  pendingMfa: null, // the challenge of a provider sign-in waiting for the second factor
  online: true,
  threads: [],
  pendingText: null, // the first message of a chat being created
  models: null, // GET /api/models, once per sign-in
  nextModel: null, // the model picked before a chat exists (views/models.js)
  assistants: null, // GET /api/assistants, reloaded when the user changes theirs
  nextAssistant: null, // the assistant picked before a chat exists (views/assistants.js)
  chat: null, // the open conversation (views/chat.js)
  socket: null, // the live event stream (socket.js)
};
