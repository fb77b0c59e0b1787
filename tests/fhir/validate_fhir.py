"""Validates every resource of every exported Bundle in a directory with an independent FHIR
model library: the `fhir.resources` package's R4B models (close to R4 for these resources).

    python tests/fhir/validate_fhir.py target/fhir-samples

Prints one line per resource and ends with `fhir: N passed, N failed`.
"""
import glob
import json
import os
import sys

from fhir.resources.R4B import get_fhir_model_class

# fhir.resources checks structure, cardinality and types but not the codes of required
# bindings; these value sets are copied from the FHIR R4 specification (not from our code).
REQUIRED_CODES = {
    ("Bundle", "type"): {"document", "message", "transaction", "transaction-response", "batch",
                         "batch-response", "history", "searchset", "collection"},
    ("Patient", "gender"): {"male", "female", "other", "unknown"},
    ("Observation", "status"): {"registered", "preliminary", "final", "amended", "corrected",
                                "cancelled", "entered-in-error", "unknown"},
    ("QuestionnaireResponse", "status"): {"in-progress", "completed", "amended",
                                          "entered-in-error", "stopped"},
    ("RiskAssessment", "status"): {"registered", "preliminary", "final", "amended", "corrected",
                                   "cancelled", "entered-in-error", "unknown"},
    ("DeviceRequest", "status"): {"draft", "active", "on-hold", "revoked", "completed",
                                  "entered-in-error", "unknown"},
    ("DeviceRequest", "intent"): {"proposal", "plan", "directive", "order", "original-order",
                                  "reflex-order", "filler-order", "instance-order", "option"},
    ("DeviceRequest", "priority"): {"routine", "urgent", "asap", "stat"},
    ("AuditEvent", "action"): {"C", "R", "U", "D", "E"},
    ("Encounter", "status"): {"planned", "arrived", "triaged", "in-progress", "onleave",
                              "finished", "cancelled", "entered-in-error", "unknown"},
    ("AuditEvent", "outcome"): {"0", "4", "8", "12"},
}


def check_codes(kind, resource):
    for (k, field), allowed in REQUIRED_CODES.items():
        if k == kind and field in resource and resource[field] not in allowed:
            raise ValueError(f"{kind}.{field} = {resource[field]!r} is not in the required value set")
    if kind == "Observation":
        q = resource.get("valueQuantity")
        if q and q.get("system") != "http://unitsofmeasure.org":
            raise ValueError("FX-UNITS: quantity is not UCUM")


def main(directory):
    passed = failed = 0
    paths = sorted(glob.glob(os.path.join(directory, "*.json")))
    for path in paths:
        with open(path) as f:
            bundle = json.load(f)
        resources = [("Bundle", bundle)] + [
            (e["resource"]["resourceType"], e["resource"]) for e in bundle.get("entry", [])
        ]
        for kind, resource in resources:
            try:
                get_fhir_model_class(kind).model_validate(resource)
                check_codes(kind, resource)
                passed += 1
                print(f"ok   {os.path.basename(path)} {kind}/{resource.get('id')}")
            except Exception as e:  # a validation error of any kind is a failed test
                failed += 1
                print(f"FAIL {os.path.basename(path)} {kind}/{resource.get('id')}: {e}")
    if not paths:
        print(f"no bundles in {directory}")
        failed += 1
    print(f"fhir: {passed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
