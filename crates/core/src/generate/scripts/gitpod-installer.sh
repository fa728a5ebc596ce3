#!/bin/sh
# Renders Gitpod with its own installer and applies the result server-side. The Job that runs
# this opts out of Flux's substitution, so ${...} here reaches the shell as written.
set -eu
config=/config/gitpod.config.yaml
manifests=/tmp/gitpod.yaml
/app/installer validate config --config "${config}"
/app/installer render --config "${config}" --namespace gitpod > "${manifests}"
# The in-cluster registry keeps its images on k3s' local-path storage (the seed's post-processing).
yq eval --inplace '(select(.kind == "PersistentVolumeClaim" and .metadata.name == "registry") | .spec.storageClassName) = "local-path"' "${manifests}"
kubectl apply --server-side --force-conflicts --field-manager=railyard-gitpod-installer --filename "${manifests}"
