#!/usr/bin/env bash
# twinlake on kind: `scripts/cluster.sh up|down|drop|status` (the Makefile's `make up`, `make down`, `make drop`).
#
#   up      check the tools (docker, kind >= v0.33.0, kubectl, Helm 3 or 4) and, before creating the cluster, that
#           host ports 9000 and 8501 are free; create the kind cluster "twinlake" (kind-config.yaml) if needed; build
#           both images with a unique tag (the git short sha, plus -dirty-<time> for a modified tree; never latest)
#           and load them into the node; install the Kubeflow spark-operator chart 2.5.2 and wait for its webhook;
#           then install charts/twinlake and wait for it. A release left pending by an interrupted `up` is rolled
#           back (or, if it was never installed, uninstalled) first, so running `up` again recovers.
#   down    delete the cluster (and everything in it).
#   drop    generate ROWS rows per file (DATA folder) and upload them through the store's NodePort at
#           127.0.0.1:9000, with the uploader credentials read from the chart's Secret.
#   status  pods, the SparkApplication and the store endpoint.
#
# Every kubectl and helm call names the context kind-twinlake: the user's current context is never used, and
# never changed (`kind create cluster` makes its cluster the current context; the previous one is restored).
#
# Environment: ROWS (drop, default 100000), DATA (drop, default data/generated), PY (python with the project,
# default .venv/bin/python), HELM (helm binary; default `helm` on PATH, else the pinned one from scripts/tools.py),
# TWINLAKE_HELM_TIMEOUT (default 20m).
set -euo pipefail

CLUSTER=twinlake
CONTEXT="kind-$CLUSTER"
NAMESPACE=twinlake
OPERATOR_NAMESPACE=spark-operator
OPERATOR_REPO_URL=https://kubeflow.github.io/spark-operator
OPERATOR_VERSION=2.5.2
MIN_KIND_VERSION=0.33.0 # kind-config.yaml pins the kindest/node image published with it
NODE_MINOR=37           # Kubernetes 1.37 (kindest/node v1.37.0): kubectl is supported within one minor of it
HOST_PORTS="9000 8501"  # kind-config.yaml: the store's NodePort and the dashboard's, on 127.0.0.1
PYTHON_IMAGE=twinlake/python
SPARK_IMAGE=twinlake/spark
S3_ENDPOINT=http://127.0.0.1:9000
UPLOADER_SECRET=store-uploader-credentials
HELM_TIMEOUT=${TWINLAKE_HELM_TIMEOUT:-20m}

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"
PY=${PY:-.venv/bin/python}

say() { printf '\033[1m==> %s\033[0m\n' "$*"; }
warn() { printf 'warning: %s\n' "$*" >&2; }
die() { printf 'error: %s\n' "$*" >&2; exit 1; }

need() {
  # need <command> <what for> <how to install>
  command -v "$1" >/dev/null 2>&1 || die "\`$1\` is not on PATH: it is needed to $2. Install it: $3"
}

# The prerequisites of `up` are all checked before anything is reported, so one run names every missing piece.
PROBLEMS=()
problem() { PROBLEMS+=("$*"); }
have() {
  # have <command> <what for> <how to install>: records a problem and fails when the command is missing
  command -v "$1" >/dev/null 2>&1 && return 0
  problem "\`$1\` is not on PATH: it is needed to $2. Install it: $3"
  return 1
}
report_problems() {
  ((${#PROBLEMS[@]} == 0)) && return 0
  printf 'error: %s\n' "${PROBLEMS[@]}" >&2
  printf '%d prerequisite(s) missing or too old: fix them and run `make %s` again\n' "${#PROBLEMS[@]}" "$1" >&2
  exit 1
}

kc() { kubectl --context "$CONTEXT" "$@"; }
hc() { "$HELM" --kube-context "$CONTEXT" "$@"; }

# version_at_least <version> <minimum>: both as x.y.z (a leading v and a pre-release suffix are ignored)
version_at_least() {
  local IFS=. have want i
  read -r -a have <<<"$(printf '%s' "${1#v}" | sed 's/[-+].*//')"
  read -r -a want <<<"$2"
  for i in 0 1 2; do
    if ((10#${have[i]:-0} > 10#${want[i]:-0})); then return 0; fi
    if ((10#${have[i]:-0} < 10#${want[i]:-0})); then return 1; fi
  done
  return 0
}

find_helm() {
  if [[ -n "${HELM:-}" ]]; then
    [[ -x "$HELM" ]] || { problem "HELM=$HELM is not an executable"; return 0; }
  elif command -v helm >/dev/null 2>&1; then
    HELM=$(command -v helm)
  elif command -v go >/dev/null 2>&1; then
    say "helm is not on PATH: building the pinned helm with go install (first time only, a few minutes)"
    [[ -x "$PY" ]] || { problem "$PY not found: run \`make venv\` first (scripts/tools.py builds the pinned helm with it)"; return 0; }
    HELM=$("$PY" scripts/tools.py helm) || { problem "could not build helm with scripts/tools.py: install Helm 3 or 4 (https://helm.sh/docs/intro/install/)"; return 0; }
  else
    problem "\`helm\` is not on PATH (and no \`go\` to build the pinned one): install Helm 3 or 4 (https://helm.sh/docs/intro/install/)"
    return 0
  fi
  local version
  version=$("$HELM" version --template '{{.Version}}' 2>/dev/null) || version=""
  case "$version" in
    v3.* | v4.*) ;;
    *) problem "$HELM is Helm ${version:-of an unknown version}: Helm 3 or 4 is needed (https://helm.sh/docs/intro/install/)" ;;
  esac
}

check_docker() {
  have docker "build the images and run the kind node" "https://docs.docker.com/engine/install/" || return 0
  docker info >/dev/null 2>&1 || problem "the Docker daemon does not answer (\`docker info\` fails): start Docker, or add your user to the docker group"
}

check_kind() {
  have kind "create the local Kubernetes cluster" "https://kind.sigs.k8s.io/docs/user/quick-start/#installation (v$MIN_KIND_VERSION or newer)" || return 0
  local version
  version=$(kind version 2>/dev/null | awk '{print $2}')
  [[ "$version" == v[0-9]* ]] || { problem "could not read the version of kind (\`kind version\` printed '$version')"; return 0; }
  version_at_least "$version" "$MIN_KIND_VERSION" \
    || problem "kind $version is too old: kind-config.yaml pins kindest/node v1.$NODE_MINOR.0, published with kind v$MIN_KIND_VERSION; install kind v$MIN_KIND_VERSION or newer (https://kind.sigs.k8s.io/docs/user/quick-start/#installation)"
}

check_kubectl() {
  have kubectl "talk to the cluster" "https://kubernetes.io/docs/tasks/tools/" || return 0
  local version minor
  version=$(kubectl version --client -o json 2>/dev/null | sed -n 's/.*"gitVersion": *"\(v[^"]*\)".*/\1/p' | head -n 1)
  [[ -n "$version" ]] || { problem "could not read the version of kubectl (\`kubectl version --client -o json\` fails)"; return 0; }
  minor=$(printf '%s' "$version" | cut -d. -f2)
  if ((10#$minor < NODE_MINOR - 1 || 10#$minor > NODE_MINOR + 1)); then
    warn "kubectl $version is outside the supported skew of the cluster's Kubernetes 1.$NODE_MINOR (1.$((NODE_MINOR - 1)) to 1.$((NODE_MINOR + 1))); if a command fails, install a matching kubectl (https://kubernetes.io/docs/tasks/tools/)"
  fi
}

check_prerequisites() {
  check_docker
  check_kind
  check_kubectl
  find_helm
  report_problems up
}

cluster_exists() { kind get clusters 2>/dev/null | grep -qx "$CLUSTER"; }

# The host ports kind-config.yaml publishes must be free before the cluster is created (docker would fail late).
check_host_ports() {
  local port busy=()
  for port in $HOST_PORTS; do
    if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
      busy+=("$port")
    fi
  done
  ((${#busy[@]} == 0)) \
    || die "port(s) ${busy[*]} on 127.0.0.1 are already in use: kind-config.yaml publishes the store (9000) and the dashboard (8501) there; stop what listens (\`lsof -iTCP:${busy[0]} -sTCP:LISTEN\`) and run \`make up\` again"
}

# kind create cluster makes the new cluster the current context: give the user theirs back (also if interrupted).
PREVIOUS_CONTEXT=""
restore_context() {
  if [[ -n "$PREVIOUS_CONTEXT" ]]; then
    kubectl config use-context "$PREVIOUS_CONTEXT" >/dev/null 2>&1 || true
  else
    kubectl config unset current-context >/dev/null 2>&1 || true
  fi
}

create_cluster() {
  check_host_ports
  PREVIOUS_CONTEXT=$(kubectl config current-context 2>/dev/null || true)
  trap restore_context EXIT
  say "creating kind cluster $CLUSTER (kind-config.yaml)"
  kind create cluster --name "$CLUSTER" --config kind-config.yaml --wait 120s
  restore_context
  trap - EXIT
}

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
  local image=$1 platform
  if kind load docker-image "$image" --name "$CLUSTER"; then
    return 0
  fi
  # Docker's containerd image store: `docker save` exports the whole multi-platform index while only this platform's
  # layers exist, and the node's `ctr images import --all-platforms` fails on the missing ones ("content digest
  # ...: not found", kind issue #3795). Save this platform only and stream it: no archive is written to disk.
  platform="linux/$(docker version --format '{{.Server.Arch}}')"
  say "kind load docker-image failed for $image; streaming a $platform archive instead (docker save --platform | kind load image-archive)"
  docker save --platform "$platform" "$image" | kind load image-archive /dev/stdin --name "$CLUSTER" \
    || die "could not load $image into the kind node (docker save --platform needs Docker 28 or newer; see the README, Running on kind > Troubleshooting)"
}

# recover_release <release> <namespace>: a release left pending by an interrupted install/upgrade blocks the next
# one ("another operation is in progress"): roll it back to its last deployed revision, or uninstall it if it
# never had one. The store Secrets are kept (resource-policy keep), so a reinstall finds the same credentials.
recover_release() {
  local release=$1 namespace=$2 status
  # The latest revision only: `helm history --max 1 -o json` is one small record with a single "status".
  status=$(hc history "$release" -n "$namespace" --max 1 -o json 2>/dev/null | sed -n 's/.*"status": *"\([a-z-]*\)".*/\1/p' | head -n 1) || status=""
  case "$status" in
    pending-upgrade | pending-rollback)
      say "release $release was left $status by an interrupted run: rolling it back"
      hc rollback "$release" -n "$namespace" --wait --timeout "$HELM_TIMEOUT"
      ;;
    pending-install)
      say "release $release was left pending-install by an interrupted run: uninstalling it"
      hc uninstall "$release" -n "$namespace" --wait --timeout "$HELM_TIMEOUT"
      ;;
  esac
}

# The source range of NodePort traffic: the Docker network of the kind node (see the chart's NetworkPolicy).
node_network_values() {
  local subnets
  subnets=$(docker network inspect kind --format '{{range .IPAM.Config}}{{.Subnet}} {{end}}' 2>/dev/null | tr ' ' '\n' | grep -F . | paste -sd, - || true)
  if [[ -n "$subnets" ]]; then
    printf '%s' "--set=networkPolicies.storeNodePortSources={$subnets}"
  else
    warn "could not read the subnet of the Docker network 'kind': the store's NodePort admits the chart's default range"
  fi
}

cmd_up() {
  check_prerequisites
  local tag node_network
  tag=$(image_tag)

  if cluster_exists; then
    say "kind cluster $CLUSTER exists: reusing it"
  else
    create_cluster
  fi
  kc cluster-info >/dev/null || die "the cluster $CLUSTER does not answer (context $CONTEXT): \`make down\`, then \`make up\`"

  say "building images with tag $tag"
  docker build -f docker/python.Dockerfile -t "$PYTHON_IMAGE:$tag" .
  docker build -f docker/spark.Dockerfile -t "$SPARK_IMAGE:$tag" .

  say "loading images into the kind node"
  load_image "$PYTHON_IMAGE:$tag"
  load_image "$SPARK_IMAGE:$tag"

  say "installing the Kubeflow spark-operator $OPERATOR_VERSION"
  kc apply -f k8s/namespace.yaml
  "$HELM" repo add spark-operator "$OPERATOR_REPO_URL" --force-update >/dev/null
  "$HELM" repo update spark-operator >/dev/null
  recover_release spark-operator "$OPERATOR_NAMESPACE"
  hc upgrade --install spark-operator spark-operator/spark-operator --version "$OPERATOR_VERSION" \
    --namespace "$OPERATOR_NAMESPACE" --create-namespace \
    -f k8s/spark-operator-values.yaml --set "spark.jobNamespaces={$NAMESPACE}" --wait --timeout "$HELM_TIMEOUT"
  say "waiting for the spark-operator webhook (it mutates the driver and executor pods)"
  kc -n "$OPERATOR_NAMESPACE" wait --for=condition=Available deployment/spark-operator-webhook --timeout=300s
  kc -n "$OPERATOR_NAMESPACE" wait --for=condition=Available deployment/spark-operator-controller --timeout=300s

  say "installing charts/twinlake (image tag $tag)"
  recover_release twinlake "$NAMESPACE"
  node_network=$(node_network_values)
  hc upgrade --install twinlake charts/twinlake --namespace "$NAMESPACE" --create-namespace \
    --set "image.tag=$tag" ${node_network:+"$node_network"} --wait --wait-for-jobs --timeout "$HELM_TIMEOUT"

  cmd_status
  cat <<EOF

twinlake is up; the dashboard is at http://127.0.0.1:8501. Drop files (generated, then uploaded through $S3_ENDPOINT):

  make drop ROWS=100000

Watch the engines (your current kubectl context is unchanged; the cluster's is $CONTEXT):

  kubectl --context $CONTEXT -n $NAMESPACE logs deploy/pandas-worker -f
  kubectl --context $CONTEXT -n $NAMESPACE logs spark-engine-driver -f
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
  # kubectl's own connection errors would only repeat, less clearly, what the caller says when this fails
  local encoded
  encoded=$(kc -n "$NAMESPACE" get secret "$UPLOADER_SECRET" -o "jsonpath={.data.$1}" 2>/dev/null) || return 1
  [[ -n "$encoded" ]] || return 1
  printf '%s' "$encoded" | base64 -d
}

cmd_drop() {
  need kubectl "read the uploader credentials from the cluster" "https://kubernetes.io/docs/tasks/tools/"
  [[ -x "$PY" ]] || die "$PY not found: run \`make venv\` first"
  local rows=${ROWS:-100000} data=${DATA:-data/generated} access secret
  access=$(secret_value accessKey) || die "cannot read Secret $NAMESPACE/$UPLOADER_SECRET in context $CONTEXT: is the cluster up (make up)?"
  secret=$(secret_value secretKey) || die "cannot read Secret $NAMESPACE/$UPLOADER_SECRET in context $CONTEXT: is the cluster up (make up)?"
  say "generating $rows rows per file into $data"
  "$PY" -m producers.generate --rows "$rows" --out "$data"
  say "uploading $data to $S3_ENDPOINT"
  # Only these settings, the uploader's keys: not the local stack's env file (TWINLAKE_ENV_FILE=/dev/null).
  env TWINLAKE_ENV_FILE=/dev/null TWINLAKE_S3_ENDPOINT="$S3_ENDPOINT" \
    TWINLAKE_S3_ACCESS_KEY="$access" TWINLAKE_S3_SECRET_KEY="$secret" \
    "$PY" -m producers.upload "$data"
  say "uploaded: the store notifies Kafka, both engines run; watch \`kubectl --context $CONTEXT -n $NAMESPACE get pods -w\`"
}

cmd_status() {
  need kubectl "talk to the cluster" "https://kubernetes.io/docs/tasks/tools/"
  kc -n "$NAMESPACE" get pods -o wide
  kc -n "$NAMESPACE" get sparkapplications 2>/dev/null || true
  echo "S3 API of the store on the host: $S3_ENDPOINT (credentials: Secrets store-*-credentials in $NAMESPACE, context $CONTEXT)"
}

case "${1:-}" in
  up) cmd_up ;;
  down) cmd_down ;;
  drop) cmd_drop ;;
  status) cmd_status ;;
  *) echo "usage: $0 up|down|drop|status" >&2; exit 2 ;;
esac
