// Confirmation of frames sent on a WebSocket by ping and pong, for the relay and the deliverer.

export { SendConfirmations } from "./send-confirmations.js";
