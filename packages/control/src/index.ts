export { controlBindProblem, isLoopbackHost } from "./bind-policy.js";
export { ControlClient, type ControlClientTls } from "./control-client.js";
export { ControlError, ControlQueries } from "./control-queries.js";
export { ControlBindError, ControlServer, type ControlServerOptions } from "./control-server.js";
export { maskDeadLetterSecrets } from "./dead-letter-secrets.js";
export { grpcClient, grpcImplementation, grpcServiceDefinition } from "./grpc-adapter.js";
