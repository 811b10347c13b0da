#!/usr/bin/env bash
# twinlake on kind: `scripts/cluster.sh up|down|drop|status` (the Makefile's `make up`, `make down`, `make drop`).
#
#   up      create the kind cluster "twinlake" (kind-config.yaml), build both images with a unique tag (the git short
#           sha, plus -dirty-<time> for a modified tree; never latest), load them into the node, install the Kubeflow
#           spark-operator chart 2.5.2 and wait for its webhook, then install charts/twinlake and wait for it.
#   down    delete the cluster (and everything in it).
#   drop    generate ROWS rows per file (DATA folder) and upload them through the store's NodePort at
#           127.0.0.1:9000, with the uploader credentials read from the chart's Secret.
#   status  pods, the SparkApplication and the store endpoint.
#
# Environment: ROWS (drop, default 100000), DATA (drop, default data/generated), PY (python with the project,
# default .venv/bin/python), HELM (helm binary; default `helm` on PATH, else the pinned one from scripts/tools.py),
# TWINLAKE_HELM_TIMEOUT (default 20m).
set -euo pipefail

CLUSTER=twinlake
NAMESPACE=twinlake
OPERATOR_NAMESPACE=spark-operator
OPERATOR_REPO_URL=https://kubeflow.github.io/spark-operator
OPERATOR_VERSION=2.5.2
PYTHON_IMAGE=twinlake/python
SPARK_IMAGE=twinlake/spark
S3_ENDPOINT=http://127.0.0.1:9000
UPLOADER_SECRET=store-uploader-credentials
HELM_TIMEOUT=${TWINLAKE_HELM_TIMEOUT:-20m}

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"
PY=${PY:-.venv/bin/python}

say() { printf '\033[1m==> %s\033[0m\n' "$*"; }
die() { printf 'error: %s\n' "$*" >&2; exit 1; }

need() {
  # need <command> <what for> <how to install>
  command -v "$1" >/dev/null 2>&1 || die "\`$1\` is not on PATH: it is needed to $2. Install it: $3"
}

find_helm() {
  if [[ -n "${HELM:-}" ]]; then
    [[ -x "$HELM" ]] || die "HELM=$HELM is not an executable"
  elif command -v helm >/dev/null 2>&1; then
    HELM=$(command -v helm)
  elif command -v go >/dev/null 2>&1; then
    say "helm is not on PATH: building the pinned helm with go install (first time only, a few minutes)"
    HELM=$(python3 scripts/tools.py helm) || die "could not build helm with scripts/tools.py"
  else
    die "\`helm\` is not on PATH (and no \`go\` to build the pinned one): install Helm 3 (https://helm.sh/docs/intro/install/)"
  fi
}

check_docker() {
  need docker "build the images and run the kind node" "https://docs.docker.com/engine/install/"
  docker info >/dev/null 2>&1 || die "the Docker daemon does not answer (\`docker info\` fails): start Docker, or add your user to the docker group"
}

check_prerequisites() {
  check_docker
  need kind "create the local Kubernetes cluster" "https://kind.sigs.k8s.io/docs/user/quick-start/#installation (v0.33.0 or newer: kind-config.yaml pins kindest/node v1.37.0)"
  need kubectl "talk to the cluster" "https://kubernetes.io/docs/tasks/tools/"
  find_helm
}

cluster_exists() { kind get clusters 2>/dev/null | grep -qx "$CLUSTER"; }

image_tag() {
  local sha
  sha=$(git rev-parse --short HEAD 2>/dev/null) || die "not a git checkout: the image tag is the git short sha"
  if [[ -n "$(git status --porcelain --untracked-files=no 2>/dev/null)" ]]; then
    # A modified tree must not reuse the tag of the committed one (IfNotPresent would keep the old image).
    sha="${sha}-dirty-$(date +%s)"
  fi
  printf '%s' "$sha"
}

load_image() {
  local image=$1 archive
  if kind load docker-image "$image" --name "$CLUSTER"; then
    return 0
  fi
  # Known failure with some Docker/containerd setups: "ctr: content digest sha256:...: not found".
  say "kind load docker-image failed for $image; retrying through an image archive (docker save | kind load image-archive)"
  archive=$(mktemp --suffix=.tar)
  if docker save "$image" -o "$archive" && kind load image-archive "$archive" --name "$CLUSTER"; then
    rm -f "$archive"
    return 0
  fi
  rm -f "$archive"
  die "could not load $image into the kind node (see the README, Running on kind > Troubleshooting)"
}

cmd_up() {
  check_prerequisites
  local tag
  tag=$(image_tag)

  if cluster_exists; then
    say "kind cluster $CLUSTER exists: reusing it"
  else
    say "creating kind cluster $CLUSTER (kind-config.yaml)"
    kind create cluster --config kind-config.yaml --wait 120s
  fi
  kubectl config use-context "kind-$CLUSTER" >/dev/null

  say "building images with tag $tag"
  docker build -f docker/python.Dockerfile -t "$PYTHON_IMAGE:$tag" .
  docker build -f docker/spark.Dockerfile -t "$SPARK_IMAGE:$tag" .

  say "loading images into the kind node"
  load_image "$PYTHON_IMAGE:$tag"
  load_image "$SPARK_IMAGE:$tag"

  say "installing the Kubeflow spark-operator $OPERATOR_VERSION"
  kubectl apply -f k8s/namespace.yaml
  "$HELM" repo add spark-operator "$OPERATOR_REPO_URL" --force-update >/dev/null
  "$HELM" repo update spark-operator >/dev/null
  "$HELM" upgrade --install spark-operator spark-operator/spark-operator --version "$OPERATOR_VERSION" \
    --namespace "$OPERATOR_NAMESPACE" --create-namespace \
    -f k8s/spark-operator-values.yaml --set "spark.jobNamespaces={$NAMESPACE}" --wait --timeout "$HELM_TIMEOUT"
  say "waiting for the spark-operator webhook (it mutates the driver and executor pods)"
  kubectl -n "$OPERATOR_NAMESPACE" wait --for=condition=Available deployment/spark-operator-webhook --timeout=300s
  kubectl -n "$OPERATOR_NAMESPACE" wait --for=condition=Available deployment/spark-operator-controller --timeout=300s

  say "installing charts/twinlake (image tag $tag)"
  "$HELM" upgrade --install twinlake charts/twinlake --namespace "$NAMESPACE" --create-namespace \
    --set "image.tag=$tag" --wait --wait-for-jobs --timeout "$HELM_TIMEOUT"

  cmd_status
  cat <<EOF

twinlake is up. Drop files (generated, then uploaded through $S3_ENDPOINT):

  make drop ROWS=100000

Watch the engines:

  kubectl -n $NAMESPACE logs deploy/pandas-worker -f
  kubectl -n $NAMESPACE logs spark-engine-driver -f
EOF
}

cmd_down() {
  need kind "delete the cluster" "https://kind.sigs.k8s.io/docs/user/quick-start/#installation"
  if cluster_exists; then
    say "deleting kind cluster $CLUSTER"
    kind delete cluster --name "$CLUSTER"
  else
    say "no kind cluster named $CLUSTER"
  fi
}

secret_value() {
  kubectl -n "$NAMESPACE" get secret "$UPLOADER_SECRET" -o "jsonpath={.data.$1}" | base64 -d
}

cmd_drop() {
  need kubectl "read the uploader credentials from the cluster" "https://kubernetes.io/docs/tasks/tools/"
  [[ -x "$PY" ]] || die "$PY not found: run \`make venv\` first"
  local rows=${ROWS:-100000} data=${DATA:-data/generated} access secret
  access=$(secret_value accessKey) || die "cannot read Secret $NAMESPACE/$UPLOADER_SECRET: is the cluster up (make up)?"
  secret=$(secret_value secretKey)
  say "generating $rows rows per file into $data"
  "$PY" -m producers.generate --rows "$rows" --out "$data"
  say "uploading $data to $S3_ENDPOINT"
  # Only these settings: not the local stack's env file (TWINLAKE_ENV_FILE=/dev/null).
  env TWINLAKE_ENV_FILE=/dev/null TWINLAKE_S3_ENDPOINT="$S3_ENDPOINT" \
    TWINLAKE_S3_ACCESS_KEY="$access" TWINLAKE_S3_SECRET_KEY="$secret" \
    "$PY" -m producers.upload "$data"
  say "uploaded: the store notifies Kafka, both engines run; watch \`kubectl -n $NAMESPACE get pods -w\`"
}

cmd_status() {
  need kubectl "talk to the cluster" "https://kubernetes.io/docs/tasks/tools/"
  kubectl -n "$NAMESPACE" get pods -o wide
  kubectl -n "$NAMESPACE" get sparkapplications 2>/dev/null || true
  echo "S3 API of the store on the host: $S3_ENDPOINT (credentials: Secrets store-*-credentials in $NAMESPACE)"
}

case "${1:-}" in
  up) cmd_up ;;
  down) cmd_down ;;
  drop) cmd_drop ;;
  status) cmd_status ;;
  *) echo "usage: $0 up|down|drop|status" >&2; exit 2 ;;
esac
