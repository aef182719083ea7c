"""Which OTEL_* variables turn traces on, as the README's Traces section states it, for
both services alike."""

from __future__ import annotations

import pytest

from services.crm.config import ConfigError, Settings
from services.gateway.config import GatewayConfigError, GatewaySettings

COLLECTOR = "http://collector:4318"

SWITCHES = [
    ({}, False),
    ({"OTEL_SERVICE_NAME": "crm-eu", "OTEL_BSP_SCHEDULE_DELAY": "100"}, False),
    ({"OTEL_EXPORTER_OTLP_ENDPOINT": COLLECTOR}, True),
    ({"OTEL_EXPORTER_OTLP_TRACES_ENDPOINT": f"{COLLECTOR}/v1/traces"}, True),
    ({"OTEL_TRACES_EXPORTER": "otlp"}, True),
    ({"OTEL_TRACES_EXPORTER": "OTLP", "OTEL_EXPORTER_OTLP_PROTOCOL": "http/protobuf"}, True),
    ({"OTEL_TRACES_EXPORTER": "none", "OTEL_EXPORTER_OTLP_ENDPOINT": COLLECTOR}, False),
    ({"OTEL_SDK_DISABLED": "true", "OTEL_TRACES_EXPORTER": "otlp"}, False),
    ({"OTEL_SDK_DISABLED": "TRUE", "OTEL_EXPORTER_OTLP_ENDPOINT": COLLECTOR}, False),
    ({"OTEL_SDK_DISABLED": "false", "OTEL_TRACES_EXPORTER": "otlp"}, True),
]
REFUSED = [
    ({"OTEL_TRACES_EXPORTER": "zipkin"}, "OTEL_TRACES_EXPORTER"),
    ({"OTEL_TRACES_EXPORTER": "otlp,console"}, "OTEL_TRACES_EXPORTER"),
    ({"OTEL_TRACES_EXPORTER": "otlp", "OTEL_EXPORTER_OTLP_PROTOCOL": "grpc"}, "grpc"),
    (
        {"OTEL_EXPORTER_OTLP_ENDPOINT": COLLECTOR, "OTEL_EXPORTER_OTLP_TRACES_PROTOCOL": "grpc"},
        "grpc",
    ),
]


@pytest.mark.parametrize(("env", "on"), SWITCHES)
def test_the_otel_variables_turn_traces_on_or_off(env: dict[str, str], on: bool) -> None:
    assert Settings.from_environ(env).traces is on
    assert GatewaySettings.from_environ(env).traces is on


@pytest.mark.parametrize(("env", "named"), REFUSED)
def test_a_setting_traces_cannot_honour_stops_the_start_with_its_name(
    env: dict[str, str], named: str
) -> None:
    with pytest.raises(ConfigError, match=named):
        Settings.from_environ(env)
    with pytest.raises(GatewayConfigError, match=named):
        GatewaySettings.from_environ(env)
