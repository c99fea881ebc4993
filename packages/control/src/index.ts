export { ControlClient } from "./control-client.js";
export { ControlError, ControlQueries } from "./control-queries.js";
export { ControlServer, type ControlServerOptions } from "./control-server.js";
export { grpcClient, grpcImplementation, grpcServiceDefinition } from "./grpc-adapter.js";
