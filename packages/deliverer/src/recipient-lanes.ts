type Task = () => Promise<void>;

/**
 * Per-recipient FIFO: tasks with the same key run one at a time in the order
 * they were added; tasks with different keys run concurrently. A task's error
 * goes to `onError` and does not stop its lane.
 */
export class RecipientLanes {
  private readonly lanes = new Map<string, Task[]>();
  private pendingTasks = 0;
  private idleWaiters: (() => void)[] = [];

  constructor(private readonly onError: (error: unknown, key: string) => void) {}

  /** Tasks queued or running. */
  get size(): number {
    return this.pendingTasks;
  }

  /** Recipients with a queued or running task. */
  get activeKeys(): number {
    return this.lanes.size;
  }

  has(key: string): boolean {
    return this.lanes.has(key);
  }

  /** The recipient with the most tasks queued or running: a scan of every lane, for diagnostics, not per task. */
  busiest(): { key: string; tasks: number } | undefined {
    let found: { key: string; tasks: number } | undefined;
    for (const [key, lane] of this.lanes) {
      if (!found || lane.length > found.tasks) found = { key, tasks: lane.length };
    }
    return found;
  }

  push(key: string, task: Task): void {
    this.pendingTasks++;
    const lane = this.lanes.get(key);
    if (lane) {
      lane.push(task);
      return;
    }
    this.lanes.set(key, [task]);
    void this.run(key);
  }

  private async run(key: string): Promise<void> {
    const lane = this.lanes.get(key) as Task[];
    while (lane.length > 0) {
      const task = lane[0] as Task;
      try {
        await task();
      } catch (error) {
        this.onError(error, key);
      }
      lane.shift();
      this.pendingTasks--;
    }
    this.lanes.delete(key);
    if (this.pendingTasks === 0) {
      const waiters = this.idleWaiters;
      this.idleWaiters = [];
      for (const w of waiters) w();
    }
  }

  /** Resolves when no task is queued or running. */
  idle(): Promise<void> {
    if (this.pendingTasks === 0) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }
}
