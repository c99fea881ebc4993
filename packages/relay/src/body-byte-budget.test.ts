import { describe, expect, it } from "vitest";
import { BodyByteBudget } from "./body-byte-budget.js";

describe("BodyByteBudget", () => {
  it("refuses a body beyond the process budget, however many clients share it", () => {
    const budget = new BodyByteBudget(10, 4);
    expect(budget.tryReserve("a", 4)).toBe(true);
    expect(budget.tryReserve("b", 4)).toBe(true);
    expect(budget.tryReserve("c", 4)).toBe(false);
    expect(budget.tryReserve("c", 2)).toBe(true);
    expect(budget.exhaustedFor("d")).toBe(true);
    expect(budget.bytesInUse).toBe(10);
    budget.release("b", 4);
    expect(budget.tryReserve("d", 3)).toBe(true);
  });

  it("keeps one client within its share, and an exempt client only within the process budget", () => {
    const budget = new BodyByteBudget(100, 4);
    expect(budget.tryReserve("a", 3)).toBe(true);
    expect(budget.tryReserve("a", 2)).toBe(false);
    expect(budget.exhaustedFor("a")).toBe(false);
    expect(budget.tryReserve("a", 1)).toBe(true);
    expect(budget.exhaustedFor("a")).toBe(true);
    expect(budget.tryReserve(undefined, 50)).toBe(true);
    budget.release("a", 4);
    budget.release(undefined, 50);
    expect(budget.bytesInUse).toBe(0);
    expect(budget.exhaustedFor("a")).toBe(false);
  });
});
