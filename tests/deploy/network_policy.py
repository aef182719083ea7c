"""Whether Kubernetes NetworkPolicies let one pod reach another's port, as the API
reference defines it: a pod selected by an Ingress policy takes only what some rule
of such a policy admits."""

from __future__ import annotations

from dataclasses import dataclass, field

from tests.deploy.manifests import Manifest


@dataclass(frozen=True)
class Pod:
    labels: dict[str, str]
    namespace_labels: dict[str, str] = field(default_factory=dict)


def admits(policies: list[Manifest], source: Pod, target: Pod, port: int) -> bool:
    isolating = [
        policy
        for policy in policies
        if "Ingress" in policy["spec"].get("policyTypes", ["Ingress"])
        and _selects(policy["spec"]["podSelector"], target.labels)
    ]
    if not isolating:
        return True
    return any(
        _port_matches(rule.get("ports"), port) and _peers_match(rule.get("from"), source, target)
        for policy in isolating
        for rule in policy["spec"].get("ingress", [])
    )


def _selects(selector: Manifest, labels: dict[str, str]) -> bool:
    assert "matchExpressions" not in selector, "only matchLabels is understood here"
    wanted: dict[str, str] = selector.get("matchLabels", {})
    return all(labels.get(key) == value for key, value in wanted.items())


def _port_matches(ports: list[Manifest] | None, port: int) -> bool:
    if not ports:
        return True
    for entry in ports:
        if "port" not in entry:
            return True
        first: int = entry["port"]
        assert isinstance(first, int), "named ports are not understood here"
        if first <= port <= int(entry.get("endPort", first)):
            return True
    return False


def _peers_match(peers: list[Manifest] | None, source: Pod, target: Pod) -> bool:
    if not peers:
        return True
    return any(_peer_matches(peer, source, target) for peer in peers)


def _peer_matches(peer: Manifest, source: Pod, target: Pod) -> bool:
    if "ipBlock" in peer:
        return True  # Any pod's address may fall in a block.
    if "namespaceSelector" in peer:
        in_namespace = _selects(peer["namespaceSelector"], source.namespace_labels)
    else:
        in_namespace = source.namespace_labels == target.namespace_labels
    return in_namespace and _selects(peer.get("podSelector", {}), source.labels)
