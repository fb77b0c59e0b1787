"""The Python bindings load the host library and call into it."""
import homevisit_ffi


def test_core_version_names_the_ruleset():
    assert "ruleset 2026.1" in homevisit_ffi.core_version()
