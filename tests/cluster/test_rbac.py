"""RBAC as the API server evaluates it, for every ServiceAccount the chart's pods run as.

Each account's rules are read back with SelfSubjectRulesReview under a token of that account (TokenRequest),
minus what every account has anyway (the rules of a fresh namespace's `default` account). The Spark driver's account
may do exactly what the driver needs in its namespace; every other account nothing; no account anything elsewhere.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from kubernetes import client

from tests.cluster.conftest import Release
from tests.cluster.kube import CLUSTER_TIMEOUT, NAMESPACE, pod_templates, wait_until

pytestmark = [pytest.mark.cluster, pytest.mark.slow, CLUSTER_TIMEOUT]

Rule = tuple[str, str, str]  # (apiGroup, resource, verb)
BASELINE_NAMESPACE = "rbac-baseline"
ALL_VERBS = ("create", "get", "list", "watch", "update", "patch", "delete", "deletecollection")
# The driver creates, watches and deletes its executor pods and their config map, owns (and may reuse) persistent
# volume claims of on-demand volumes, and manages the executors' headless service.
DRIVER_RESOURCES = ("pods", "services", "configmaps", "persistentvolumeclaims")
DRIVER_REQUIRED: set[Rule] = (
    {("", "pods", v) for v in ("create", "get", "list", "watch", "delete", "deletecollection")}
    | {("", "configmaps", v) for v in ("create", "get", "list", "delete", "deletecollection")}
    | {("", "services", v) for v in ("create", "get", "delete")}
    | {("", "persistentvolumeclaims", v) for v in ("create", "get", "list", "delete")}
)
DRIVER_ALLOWED: set[Rule] = {("", r, v) for r in DRIVER_RESOURCES for v in ALL_VERBS}
# What each account may do in its namespace beyond the baseline; an account not listed here may do nothing.
ALLOWED: dict[str, set[Rule]] = {"spark-engine": DRIVER_ALLOWED}


def token_of(api: client.ApiClient, namespace: str, account: str) -> str:
    request = client.AuthenticationV1TokenRequest(spec=client.V1TokenRequestSpec(audiences=[], expiration_seconds=600))
    token: str = client.CoreV1Api(api).create_namespaced_service_account_token(account, namespace, request).status.token
    return token


def as_token(api: client.ApiClient, token: str) -> client.ApiClient:
    configuration = client.Configuration()
    configuration.host = api.configuration.host
    configuration.ssl_ca_cert = api.configuration.ssl_ca_cert
    configuration.api_key = {"authorization": f"Bearer {token}"}
    return client.ApiClient(configuration)


def expand(rules: list[client.V1ResourceRule]) -> Iterator[Rule]:
    for rule in rules:
        for group in rule.api_groups or [""]:
            for resource in rule.resources or []:
                for verb in rule.verbs:
                    yield group, resource, verb


def rules(api: client.ApiClient, namespace: str, account: str, in_namespace: str) -> set[Rule]:
    """What `namespace`/`account` may do in `in_namespace`, as the server's authorizers say."""
    review = client.V1SelfSubjectRulesReview(spec=client.V1SelfSubjectRulesReviewSpec(namespace=in_namespace))
    result = client.AuthorizationV1Api(
        as_token(api, token_of(api, namespace, account))
    ).create_self_subject_rules_review(review)
    assert not result.status.incomplete, result.status.evaluation_error
    return set(expand(result.status.resource_rules))


@pytest.fixture(scope="module")
def baseline(api: client.ApiClient) -> set[Rule]:
    core = client.CoreV1Api(api)
    core.create_namespace(client.V1Namespace(metadata=client.V1ObjectMeta(name=BASELINE_NAMESPACE)))
    try:
        # The service account controller creates `default` a moment after the namespace.
        wait_until("the default ServiceAccount of a new namespace", lambda: _exists(core, BASELINE_NAMESPACE), 60)
        found = rules(api, BASELINE_NAMESPACE, "default", BASELINE_NAMESPACE)
    finally:
        core.delete_namespace(BASELINE_NAMESPACE)
    assert ("authorization.k8s.io", "selfsubjectrulesreviews", "create") in found
    assert not any(resource == "pods" for _, resource, _ in found), found
    return found


def _exists(core: client.CoreV1Api, namespace: str) -> bool:
    try:
        core.read_namespaced_service_account("default", namespace)
    except client.ApiException:
        return False
    return True


def accounts(release: Release) -> set[str]:
    """Every ServiceAccount the chart creates or its pods run as (`default` when a pod names none)."""
    named = {r["metadata"]["name"] for r in release.resources if r["kind"] == "ServiceAccount"}
    used = {t.get("serviceAccountName", "default") for _, t in pod_templates(release.resources)}
    spark = [
        r["spec"]["driver"].get("serviceAccount", "default")
        for r in release.resources
        if r["kind"] == "SparkApplication"
    ]
    return named | used | set(spark)


def test_each_account_has_no_more_than_it_needs_in_its_namespace(
    api: client.ApiClient, release: Release, baseline: set[Rule]
) -> None:
    assert "spark-engine" in accounts(release)
    for account in sorted(accounts(release)):
        extra = rules(api, NAMESPACE, account, NAMESPACE) - baseline
        allowed = ALLOWED.get(account, set())
        assert extra <= allowed, f"{account} may also {sorted(extra - allowed)}"
        if account == "spark-engine":
            assert extra >= DRIVER_REQUIRED, f"the driver may not {sorted(DRIVER_REQUIRED - extra)}"


def test_no_account_has_rights_elsewhere(api: client.ApiClient, release: Release, baseline: set[Rule]) -> None:
    """Rules in another namespace are what cluster-wide bindings give: none beyond the baseline."""
    for account in sorted(accounts(release)):
        extra = rules(api, NAMESPACE, account, "default") - baseline
        assert not extra, f"{account} may {sorted(extra)} outside {NAMESPACE}"


@pytest.mark.parametrize(
    ("verb", "group", "resource", "where"),
    [
        ("list", "", "pods", ""),
        ("list", "", "nodes", ""),
        ("get", "", "secrets", NAMESPACE),
        ("list", "", "secrets", ""),
        ("create", "", "pods", "default"),
        ("create", "rbac.authorization.k8s.io", "rolebindings", NAMESPACE),
        ("impersonate", "", "serviceaccounts", NAMESPACE),
    ],
)
def test_the_driver_cannot(
    api: client.ApiClient, release: Release, verb: str, group: str, resource: str, where: str
) -> None:
    """SubjectAccessReview: a few things a compromised driver must not be able to do, cluster-wide or here."""
    attributes = client.V1ResourceAttributes(verb=verb, group=group, resource=resource, namespace=where or None)
    review = client.V1SubjectAccessReview(
        spec=client.V1SubjectAccessReviewSpec(
            user=f"system:serviceaccount:{NAMESPACE}:spark-engine",
            groups=["system:serviceaccounts", f"system:serviceaccounts:{NAMESPACE}", "system:authenticated"],
            resource_attributes=attributes,
        )
    )
    result = client.AuthorizationV1Api(api).create_subject_access_review(review)
    assert result.status.allowed is False, (verb, resource, where, result.status.reason)
    probe = client.V1SubjectAccessReview(
        spec=client.V1SubjectAccessReviewSpec(
            user=f"system:serviceaccount:{NAMESPACE}:spark-engine",
            resource_attributes=client.V1ResourceAttributes(verb="create", resource="pods", namespace=NAMESPACE),
        )
    )
    assert client.AuthorizationV1Api(api).create_subject_access_review(probe).status.allowed is True
