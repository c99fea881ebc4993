import { type DescMessage, type DescService, fromBinary, type MessageShape, toBinary } from "@bufbuild/protobuf";
import type { ServiceDefinition, UntypedServiceImplementation } from "@grpc/grpc-js";
import * as grpc from "@grpc/grpc-js";

// protobuf-es generates service descriptors but no grpc-js definitions; this
// turns one into the other (unary methods only: that is all the API has).
export function grpcServiceDefinition(service: DescService): ServiceDefinition {
  const definition: Record<string, grpc.MethodDefinition<unknown, unknown>> = {};
  for (const method of service.methods) {
    if (method.methodKind !== "unary")
      throw new Error(`${service.typeName}.${method.name}: only unary methods supported`);
    definition[method.localName] = {
      path: `/${service.typeName}/${method.name}`,
      requestStream: false,
      responseStream: false,
      requestSerialize: (m: unknown) => Buffer.from(toBinary(method.input, m as never)),
      requestDeserialize: (b: Buffer) => fromBinary(method.input, b),
      responseSerialize: (m: unknown) => Buffer.from(toBinary(method.output, m as never)),
      responseDeserialize: (b: Buffer) => fromBinary(method.output, b),
    };
  }
  return definition as ServiceDefinition;
}

type UnaryHandler<I extends DescMessage, O extends DescMessage> = (
  request: MessageShape<I>,
) => Promise<MessageShape<O>>;

/** Wraps async handlers as grpc-js unary handlers; errors become gRPC status errors with their message. */
export function grpcImplementation(
  service: DescService,
  handlers: Record<string, UnaryHandler<DescMessage, DescMessage>>,
): UntypedServiceImplementation {
  const impl: UntypedServiceImplementation = {};
  for (const method of service.methods) {
    const handler = handlers[method.localName];
    if (!handler) throw new Error(`no handler for ${service.typeName}.${method.name}`);
    impl[method.localName] = (call: grpc.ServerUnaryCall<unknown, unknown>, callback: grpc.sendUnaryData<unknown>) => {
      handler(call.request as never).then(
        (response) => callback(null, response),
        (error: Error & { code?: number }) =>
          callback({ code: error.code ?? grpc.status.INTERNAL, details: error.message } as grpc.ServiceError),
      );
    };
  }
  return impl;
}

/** A typed unary client for a protobuf-es service descriptor. */
export function grpcClient<S extends DescService>(
  service: S,
  address: string,
  credentials = grpc.credentials.createInsecure(),
) {
  const Client = grpc.makeGenericClientConstructor(grpcServiceDefinition(service), service.typeName);
  const client = new Client(address, credentials);
  return {
    call<I extends DescMessage, O extends DescMessage>(
      method: { localName: string; input: I; output: O },
      request: MessageShape<I>,
      deadlineMs = 10_000,
      metadata: grpc.Metadata = new grpc.Metadata(),
    ): Promise<MessageShape<O>> {
      return new Promise((resolve, reject) => {
        type UnaryCall = (
          request: unknown,
          metadata: grpc.Metadata,
          options: grpc.CallOptions,
          callback: (error: grpc.ServiceError | null, response: MessageShape<O>) => void,
        ) => void;
        const fn = (client as unknown as Record<string, UnaryCall>)[method.localName] as UnaryCall;
        fn.call(
          client,
          request,
          metadata,
          { deadline: Date.now() + deadlineMs },
          (error: grpc.ServiceError | null, response: MessageShape<O>) => (error ? reject(error) : resolve(response)),
        );
      });
    },
    close: () => client.close(),
  };
}
