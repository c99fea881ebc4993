import { describe, expect, it } from "vitest";
import { newMessageId } from "./message-id.js";

describe("message ids", () => {
  it("are 26-character ULIDs that sort in creation order, even within one millisecond", () => {
    const ids = Array.from({ length: 1000 }, () => newMessageId(1732780800000));
    for (const id of ids) expect(id).toMatch(/^[0-9A-HJKMNP-TV-Z]{26}$/);
    expect([...ids].sort()).toEqual(ids);
    expect(new Set(ids).size).toBe(ids.length);
    expect(newMessageId(1732780800001) > (ids.at(-1) as string)).toBe(true);
  });
});
