#!/bin/sh
# Applies what Gitpod's installer rendered (one file an object, in the volume the init containers
# filled) as one kubectl ApplySet, so an object a newer installer no longer renders is pruned,
# then waits for every Deployment, StatefulSet and DaemonSet it rendered to roll out: the Job,
# and with it the Flux layer, is Ready only once Gitpod is. The Job opts out of Flux's
# substitution, so ${...} here reaches the shell as written; the variables come from the
# container's environment.
set -eu
patched() {
  kubectl patch --local --type "$1" --patch "$2" --filename "$3" --output yaml > "$3.patched"
  mv "$3.patched" "$3"
}
# The in-cluster registry keeps its images on k3s' local-path storage (the seed's post-processing:
# a volume "can get locked on upgrade"). When the site runs its cloud's CSI driver
# (STORAGE_CLASS), the registry's claim, object storage's (MinIO's `minio`) and the database's
# (the `mysql` StatefulSet's claim template, which cannot change once created) use its class
# instead, and the registry's and MinIO's Deployments are replaced rather than rolled, since a
# block volume attaches to one node at a time and a rolling update would wait for it forever.
for claim in "${MANIFESTS}"/*_PersistentVolumeClaim_registry.yaml; do
  [ -e "${claim}" ] || continue
  patched merge "{\"spec\":{\"storageClassName\":\"${STORAGE_CLASS:-local-path}\"}}" "${claim}"
done
if [ -n "${STORAGE_CLASS:-}" ]; then
  for claim in "${MANIFESTS}"/*_PersistentVolumeClaim_minio.yaml; do
    [ -e "${claim}" ] || continue
    patched merge "{\"spec\":{\"storageClassName\":\"${STORAGE_CLASS}\"}}" "${claim}"
  done
  for deployment in "${MANIFESTS}"/*_Deployment_registry.yaml "${MANIFESTS}"/*_Deployment_minio.yaml; do
    [ -e "${deployment}" ] || continue
    patched merge '{"spec":{"strategy":{"type":"Recreate","rollingUpdate":null}}}' "${deployment}"
  done
  for database in "${MANIFESTS}"/*_StatefulSet_mysql.yaml; do
    [ -e "${database}" ] || continue
    patched json "[{\"op\":\"add\",\"path\":\"/spec/volumeClaimTemplates/0/spec/storageClassName\",\"value\":\"${STORAGE_CLASS}\"}]" "${database}"
  done
fi
kubectl apply --server-side --force-conflicts --field-manager="${FIELD_MANAGER}" \
  --namespace "${NAMESPACE}" --prune --applyset="${APPLYSET}" --filename "${MANIFESTS}"
for kind in Deployment StatefulSet DaemonSet; do
  for workload in "${MANIFESTS}"/*_"${kind}"_*.yaml; do
    [ -e "${workload}" ] || continue
    kubectl rollout status --namespace "${NAMESPACE}" --timeout="${ROLLOUT_TIMEOUT}" --filename "${workload}"
  done
done
