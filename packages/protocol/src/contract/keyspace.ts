import { type DescField, type DescMessage, getOption } from "@bufbuild/protobuf";
import type { Topology } from "../gen/acapy_bridge/v1/envelopes_pb.js";
import { type RedisKey, RedisType, redis_key, ValueEncoding } from "../gen/acapy_bridge/v1/keyspace_options_pb.js";
import { type Keyspace as KeyspaceMessage, KeyspaceSchema } from "../gen/acapy_bridge/v1/keyspace_pb.js";
import { partitionTag } from "./partitioning.js";

/** The name of one key family, as declared in proto/acapy_bridge/v1/keyspace.proto. */
export type KeyName = Exclude<keyof KeyspaceMessage, "$typeName" | "$unknown">;

/** Values for a template's placeholders; which ones a key needs is in its template. */
export interface KeyVars {
  partition?: number;
  recipient?: string;
  relay?: string;
  instance?: string;
  requester?: string;
  role?: string;
  digest?: string;
  mid?: string;
}

/** Everything the contract says about one key family. */
export interface KeySpec {
  readonly name: KeyName;
  readonly protoName: string;
  readonly template: string;
  readonly type: RedisType;
  readonly encoding: ValueEncoding;
  readonly partitionFamily: string;
  readonly consumerGroup: string;
  readonly entryField: string;
  readonly defaultTtlMs: number;
  /** Streams: the length writers keep it near (XADD MAXLEN ~), 0 = unbounded. */
  readonly maxLength: number;
  readonly writer: string;
  readonly reader: string;
  /** The message each value (entry, item) holds, when encoded as protobuf. */
  readonly valueSchema: DescMessage | undefined;
}

export class KeyError extends Error {
  constructor(
    message: string,
    readonly keyName: string,
  ) {
    super(message);
    this.name = "KeyError";
  }
}

/** Partition counts per family letter, taken from the deployment's Topology. */
export type PartitionCounts = Readonly<Record<string, number>>;

export function partitionCountsOf(
  topology: Pick<Topology, "inboundPartitions" | "outboundPartitions" | "eventPartitions" | "adminPartitions">,
): PartitionCounts {
  // Family letters are declared in keyspace.proto (`partition_family`).
  return {
    i: topology.inboundPartitions,
    o: topology.outboundPartitions,
    e: topology.eventPartitions,
    a: topology.adminPartitions,
  };
}

function specOf(field: DescField): KeySpec {
  const option: RedisKey = getOption(field, redis_key);
  if (!option.template) {
    throw new KeyError(`keyspace field ${field.name} has no redis_key option`, field.name);
  }
  return {
    name: field.localName as KeyName,
    protoName: field.name,
    template: option.template,
    type: option.type,
    encoding: option.encoding,
    partitionFamily: option.partitionFamily,
    consumerGroup: option.consumerGroup,
    entryField: option.entryField,
    defaultTtlMs: Number(option.defaultTtlMs),
    maxLength: Number(option.maxLength),
    writer: option.writer,
    reader: option.reader,
    valueSchema:
      option.encoding === ValueEncoding.PROTOBUF && field.fieldKind === "message" ? field.message : undefined,
  };
}

/** Every key family of the contract, by name. */
export const keySpecs: Readonly<Record<KeyName, KeySpec>> = Object.freeze(
  Object.fromEntries(KeyspaceSchema.fields.map((f) => [f.localName, specOf(f)])) as Record<KeyName, KeySpec>,
);

type TemplatePart = { literal: string } | { placeholder: keyof KeyVars | "prefix" };

const PLACEHOLDER = /\$\{([a-z]+)\}/g;

function compile(template: string): TemplatePart[] {
  const parts: TemplatePart[] = [];
  let last = 0;
  for (const match of template.matchAll(PLACEHOLDER)) {
    if (match.index > last) parts.push({ literal: template.slice(last, match.index) });
    parts.push({ placeholder: match[1] as keyof KeyVars });
    last = match.index + match[0].length;
  }
  if (last < template.length) parts.push({ literal: template.slice(last) });
  return parts;
}

const compiled = new Map<KeyName, TemplatePart[]>(
  Object.values(keySpecs).map((spec) => [spec.name, compile(spec.template)]),
);

// Values end up inside key names and hash tags: braces would move the slot,
// whitespace and control characters make keys unreadable in redis-cli.
const UNSAFE = /[{}\s\p{Cc}]/u;
const MAX_VALUE_LENGTH = 256;

function checkValue(name: KeyName, placeholder: string, value: unknown): string {
  if (typeof value !== "string" || value.length === 0) {
    throw new KeyError(`key ${name} needs \${${placeholder}}`, name);
  }
  if (value.length > MAX_VALUE_LENGTH || UNSAFE.test(value)) {
    throw new KeyError(`key ${name}: \${${placeholder}} is not a safe key part`, name);
  }
  return value;
}

/** Renders the keys of one deployment (its prefix and partition counts). */
export class Keyspace {
  constructor(
    readonly prefix: string,
    readonly partitions: PartitionCounts,
  ) {
    checkValue("topology", "prefix", prefix);
  }

  spec(name: KeyName): KeySpec {
    return keySpecs[name];
  }

  /** Number of partitions of the family a partitioned key belongs to. */
  partitionCount(name: KeyName): number {
    const family = keySpecs[name].partitionFamily;
    const count = this.partitions[family];
    if (!family || count === undefined || count < 1) {
      throw new KeyError(`key ${name} is not partitioned or its family has no count`, name);
    }
    return count;
  }

  key(name: KeyName, vars: KeyVars = {}): string {
    const parts = compiled.get(name) as TemplatePart[];
    let out = "";
    for (const part of parts) {
      if ("literal" in part) {
        out += part.literal;
      } else if (part.placeholder === "prefix") {
        out += this.prefix;
      } else if (part.placeholder === "partition") {
        const p = vars.partition;
        const count = this.partitionCount(name);
        if (p === undefined || !Number.isInteger(p) || p < 0 || p >= count) {
          throw new KeyError(`key ${name} needs a partition in 0..${count - 1}, got ${p}`, name);
        }
        out += partitionTag(keySpecs[name].partitionFamily, p, count);
      } else {
        out += checkValue(name, part.placeholder, vars[part.placeholder]);
      }
    }
    return out;
  }

  /** All keys of a partitioned family, index = partition. */
  allPartitions(name: KeyName): string[] {
    const count = this.partitionCount(name);
    return Array.from({ length: count }, (_, partition) => this.key(name, { partition }));
  }
}

export { RedisType, ValueEncoding };
