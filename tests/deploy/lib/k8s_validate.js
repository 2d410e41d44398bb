'use strict';
// Offline validation of Kubernetes objects.
//
// Built-in kinds: the OpenAPI schema of the Kubernetes API as shipped (and
// compiled to validators) by npm `kubernetes-models` (4.5.1: generated from an
// API that has Container.restartPolicy, i.e. native sidecars, and
// Job.spec.successPolicy, i.e. >= 1.31). Like the API server without
// strict field validation, that schema does not reject unknown fields:
// lib/k8s_strict.js does (field lists from the same package).
//
// OpenTelemetryCollector (a CRD, no schema in any npm package): a structural
// JSON Schema of opentelemetry.io/v1beta1 written here, covering the fields
// this repository uses; spec fields outside the v1beta1 field list are
// rejected, env/resources/securityContext are checked with the core schemas.
//
// Kustomization: a structural check of the fields used here.
const Ajv = require('ajv');
const { ConfigMap, PersistentVolumeClaim, EnvVar, ResourceRequirements, SecurityContext } =
  require('kubernetes-models/v1');
const { Job, CronJob } = require('kubernetes-models/batch/v1');
const { DaemonSet, Deployment } = require('kubernetes-models/apps/v1');

const MODELS = {
  'v1/ConfigMap': ConfigMap,
  'v1/PersistentVolumeClaim': PersistentVolumeClaim,
  'batch/v1/Job': Job,
  'batch/v1/CronJob': CronJob,
  'apps/v1/DaemonSet': DaemonSet,
  'apps/v1/Deployment': Deployment,
};

// spec fields of OpenTelemetryCollector v1beta1 (OpenTelemetryCommonFields +
// the collector's own), from the operator's API reference.
const OTELCOL_SPEC_FIELDS = [
  'managementState', 'resources', 'nodeSelector', 'args', 'replicas', 'podDisruptionBudget',
  'securityContext', 'podSecurityContext', 'podAnnotations', 'serviceAccount', 'image',
  'imagePullPolicy', 'volumeMounts', 'ports', 'env', 'envFrom', 'tolerations', 'volumes',
  'affinity', 'lifecycle', 'terminationGracePeriodSeconds', 'topologySpreadConstraints',
  'hostNetwork', 'shareProcessNamespace', 'priorityClassName', 'initContainers',
  'additionalContainers', 'podDnsConfig', 'dnsPolicy', 'ipFamilies', 'ipFamilyPolicy',
  'mode', 'config', 'configmaps', 'upgradeStrategy', 'ingress', 'livenessProbe',
  'readinessProbe', 'observability', 'targetAllocator', 'daemonSetUpdateStrategy',
  'deploymentUpdateStrategy', 'persistentVolumeClaimRetentionPolicy', 'serviceName',
  'autoscaler', 'volumeClaimTemplates', 'networkPolicy', 'trafficDistribution',
];

const DNS1123 = '^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$';
const componentMap = { type: 'object', additionalProperties: { type: ['object', 'null'] } };
const OTELCOL_SCHEMA = {
  type: 'object',
  required: ['apiVersion', 'kind', 'metadata', 'spec'],
  properties: {
    apiVersion: { const: 'opentelemetry.io/v1beta1' },
    kind: { const: 'OpenTelemetryCollector' },
    metadata: {
      type: 'object',
      required: ['name'],
      properties: { name: { type: 'string', maxLength: 63, pattern: DNS1123 } },
    },
    spec: {
      type: 'object',
      required: ['config'],
      propertyNames: { enum: OTELCOL_SPEC_FIELDS },
      properties: {
        mode: { enum: ['daemonset', 'deployment', 'sidecar', 'statefulset'] },
        image: { type: 'string', minLength: 1 },
        env: { type: 'array' },
        resources: { type: 'object' },
        securityContext: { type: 'object' },
        config: {
          // v1beta1: an object (v1alpha1 took a YAML string).
          type: 'object',
          required: ['receivers', 'exporters', 'service'],
          properties: {
            receivers: { ...componentMap, minProperties: 1 },
            processors: componentMap,
            exporters: { ...componentMap, minProperties: 1 },
            extensions: componentMap,
            connectors: componentMap,
            service: {
              type: 'object',
              required: ['pipelines'],
              properties: {
                extensions: { type: 'array', items: { type: 'string' } },
                pipelines: { type: 'object', minProperties: 1 },
              },
            },
          },
        },
      },
    },
  },
};

const KUSTOMIZATION_SCHEMA = {
  type: 'object',
  required: ['apiVersion', 'kind', 'resources'],
  properties: {
    apiVersion: { const: 'kustomize.config.k8s.io/v1beta1' },
    kind: { const: 'Kustomization' },
    resources: { type: 'array', minItems: 1, items: { type: 'string', minLength: 1 } },
    images: {
      type: 'array',
      items: {
        type: 'object',
        required: ['name'],
        additionalProperties: false,
        properties: {
          name: { type: 'string' },
          newName: { type: 'string' },
          newTag: { type: 'string' },
          digest: { type: 'string' },
        },
      },
    },
  },
};

const ajv = new Ajv({ allErrors: true, strict: true });
const validateOtelcolShape = ajv.compile(OTELCOL_SCHEMA);
const validateKustomization = ajv.compile(KUSTOMIZATION_SCHEMA);

function ajvMessage(validate) {
  return validate.errors.map((e) => `${e.instancePath || '/'} ${e.message}`).join(', ');
}

function validateOtelcol(doc) {
  if (!validateOtelcolShape(doc)) throw new Error(ajvMessage(validateOtelcolShape));
  const spec = doc.spec;
  (spec.env || []).forEach((e, i) => {
    try {
      new EnvVar(e).validate();
    } catch (err) {
      throw new Error(`spec.env[${i}]: ${err.message}`);
    }
  });
  if (spec.resources) new ResourceRequirements(spec.resources).validate();
  if (spec.securityContext) new SecurityContext(spec.securityContext).validate();
}

// Throws an Error naming what is wrong; returns the kind validated.
function validateK8sObject(doc) {
  if (doc === null || typeof doc !== 'object' || Array.isArray(doc)) {
    throw new Error('not a mapping');
  }
  const key = `${doc.apiVersion}/${doc.kind}`;
  if (doc.kind === 'Kustomization') {
    if (!validateKustomization(doc)) throw new Error(ajvMessage(validateKustomization));
    return key;
  }
  if (doc.kind === 'OpenTelemetryCollector') {
    validateOtelcol(doc);
    return key;
  }
  const Model = MODELS[key];
  if (!Model) throw new Error(`no schema for ${key}: add it to tests/deploy/lib/k8s_validate.js`);
  if (!doc.metadata || (!doc.metadata.name && !doc.metadata.generateName)) {
    throw new Error(`${key} has neither metadata.name nor metadata.generateName`);
  }
  new Model(doc).validate();
  return key;
}

module.exports = { validateK8sObject, OTELCOL_SPEC_FIELDS };
