import { ServiceMonitor } from "@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1/ServiceMonitor";
import { Deployment } from "kubernetes-models/apps/v1/Deployment";
import { PodDisruptionBudget } from "kubernetes-models/policy/v1/PodDisruptionBudget";
import { Service } from "kubernetes-models/v1/Service";
import { parseAllDocuments } from "yaml";

/** A rendered Kubernetes object, as far as the checks read it. */
export interface KubernetesObject {
  apiVersion: string;
  kind: string;
  metadata: { name: string; labels?: Record<string, string> };
  // biome-ignore lint/suspicious/noExplicitAny: a manifest's spec is whatever its kind says; the models validate it.
  spec: any;
}

interface Validatable {
  validate(): void;
}

/** The kinds the chart renders, each with the kubernetes-models class that validates it against its schema. */
const MODELS: Record<string, (data: KubernetesObject) => Validatable> = {
  "apps/v1/Deployment": (data) => new Deployment(data as never),
  "v1/Service": (data) => new Service(data as never),
  "policy/v1/PodDisruptionBudget": (data) => new PodDisruptionBudget(data as never),
  "monitoring.coreos.com/v1/ServiceMonitor": (data) => new ServiceMonitor(data as never),
};

/** The objects of a multi-document manifest (`helm template` output), empty documents left out. */
export function parseManifests(text: string): KubernetesObject[] {
  return parseAllDocuments(text)
    .map((document) => {
      if (document.errors.length > 0) throw new Error(`manifest does not parse: ${document.errors[0]?.message}`);
      return document.toJS() as KubernetesObject | null;
    })
    .filter((object): object is KubernetesObject => object !== null);
}

/** Throws, naming the object, unless its kind is known and it matches that kind's schema. */
export function validateObject(object: KubernetesObject): void {
  const key = `${object.apiVersion}/${object.kind}`;
  const model = MODELS[key];
  if (!model) throw new Error(`${object.metadata?.name}: no schema for ${key} (add its model to MODELS)`);
  try {
    model(object).validate();
  } catch (error) {
    throw new Error(`${key} ${object.metadata.name}: ${(error as Error).message}`);
  }
}
