#!/bin/sh
# Applies what Gitpod's installer rendered (one file an object, in the volume the init containers
# filled) as one kubectl ApplySet, so an object a newer installer no longer renders is pruned,
# then waits for every Deployment, StatefulSet and DaemonSet it rendered to roll out: the Job,
# and with it the Flux layer, is Ready only once Gitpod is. The Job opts out of Flux's
# substitution, so ${...} here reaches the shell as written; the variables come from the
# container's environment.
set -eu
# The in-cluster registry keeps its images on k3s' local-path storage (the seed's post-processing).
for claim in "${MANIFESTS}"/*_PersistentVolumeClaim_registry.yaml; do
  [ -e "${claim}" ] || continue
  kubectl patch --local --type merge --patch '{"spec":{"storageClassName":"local-path"}}' \
    --filename "${claim}" --output yaml > "${claim}.patched"
  mv "${claim}.patched" "${claim}"
done
kubectl apply --server-side --force-conflicts --field-manager="${FIELD_MANAGER}" \
  --namespace "${NAMESPACE}" --prune --applyset="${APPLYSET}" --filename "${MANIFESTS}"
for kind in Deployment StatefulSet DaemonSet; do
  for workload in "${MANIFESTS}"/*_"${kind}"_*.yaml; do
    [ -e "${workload}" ] || continue
    kubectl rollout status --namespace "${NAMESPACE}" --timeout="${ROLLOUT_TIMEOUT}" --filename "${workload}"
  done
done
