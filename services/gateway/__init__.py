"""The HTTP/JSON gateway: routes built from the proto's google.api.http rules."""
