export { main } from "./main.js";
export { serverOptionSpecs } from "./run-server.js";
