// Worker threads do not inherit the main thread's module hooks (Node 20): this one registers tsx
// (and the workspace-source condition the bench runs with) before it loads the TypeScript sink.
import { register } from "tsx/esm/api";

register();
await import("./push-sink-worker.ts");
