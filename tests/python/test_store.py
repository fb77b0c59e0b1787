"""The Python bindings against the host library: the main clinical flow, and every exported
function fed hostile input, which must give typed errors, never a crash."""
import datetime
import os
import enum
import inspect
import typing
import uuid

import pytest

import homevisit_ffi as hv

KEY = bytes(range(32))


def identity(role, team=None):
    return hv.Identity(
        user_id=str(uuid.uuid4()),
        role=role,
        device_id=str(uuid.uuid4()),
        team_id=team or str(uuid.uuid4()),
        hcpc_number=None if role == hv.Role.AP else "OT123456",
        hcpc_verified_until=None if role == hv.Role.AP else "2099-12-31",
    )


@pytest.fixture
def path(tmp_path):
    return str(tmp_path / "store.db")


def test_wrong_key_raises_wrong_key_and_leaves_the_file_untouched(path):
    s = hv.Store.create(path, KEY, identity(hv.Role.OT))
    s.create_child("Amira", "Okafor", "2016-05-14")
    s.close_store()
    before = open(path, "rb").read()
    with pytest.raises(hv.HomeVisitError.WrongKey):
        hv.Store.open(path, bytes(32), identity(hv.Role.OT))
    assert open(path, "rb").read() == before
    assert open(path, "rb").read(16) != b"SQLite format 3\x00"


def test_main_flow_child_records_validation_and_workflow(path):
    team = str(uuid.uuid4())
    ap = hv.Store.create(path, KEY, identity(hv.Role.AP, team))
    child = ap.create_child("Sam", "Jones", "2012-01-20")
    ap.set_field(child, "nhs_number", hv.FieldValue.TEXT("9434765919"))
    ra = ap.create_risk_assessment(child)
    ap.set_field(ra, "child_weight_kg", hv.FieldValue.DECIMAL("32.4"))
    assert '"child_weight_kg":324' in ap.view(ra).content_json
    assert ap.view(ra).banner.nhs_number == "943 476 5919"
    # FLD-FORMAT: two decimals are refused, nothing saved.
    with pytest.raises(hv.HomeVisitError.InvalidInput) as e:
        ap.set_field(ra, "child_weight_kg", hv.FieldValue.DECIMAL("32.45"))
    assert e.value.rule_id == "FLD-FORMAT"
    req = ap.create_equipment_request(child, hv.Service.HEALTH, hv.EquipmentCategory.BATHING_AIDS)
    ap.set_field(req, "measurements.bath_rim_height_mm.value", hv.FieldValue.INTEGER(1500))
    issues = ap.validate(req, False)
    assert any(i.rule_id == "FLD-HARD" and "bath_rim_height_mm" in i.path for i in issues), issues
    with pytest.raises(hv.HomeVisitError.NotPermitted) as e:
        ap.create_equipment_request(child, hv.Service.HEALTH, hv.EquipmentCategory.WHEELCHAIR)
    assert e.value.rule_id == "S-WHEELCHAIR"
    referral = ap.create_referral(child, hv.Service.HEALTH)
    ap.set_field(referral, "referrer.role", hv.FieldValue.TEXT("parent_carer"))
    ap.set_field(referral, "route", hv.FieldValue.TEXT("self_or_family"))
    outcome = ap.evaluate_eligibility(referral, "2025-11-03")
    assert outcome.outcome == hv.EligibilityDecision.NOT_ELIGIBLE
    assert outcome.rule_ids[0] == "H-REF-SOURCE"
    assert hv.Signpost.ASK_PROFESSIONAL_TO_REFER in outcome.signpost
    assert [c.child_id for c in ap.search("943 476 5919")] == [child]
    assert len(ap.records_of_child(child)) == 3
    history = ap.history(ra)
    assert history[0].action == hv.ChangeAction.CREATE


def test_nhs_number_check_reports_rule_ids():
    assert hv.check_nhs_number("943 476 5919") == []
    assert [i.rule_id for i in hv.check_nhs_number("9434765918")] == ["CH-NHS-CHECK"]
    assert [i.rule_id for i in hv.check_nhs_number("1111111111")] == ["CH-NHS-PATTERN"]


HOSTILE_STRINGS = [
    "",
    " ",
    "x" * 200_000,
    "not-a-uuid",
    "00000000-0000-0000-0000-000000000000",
    "\x00\x01\x02",
    "💥" * 1000,
    "../../etc/passwd",
    "a." * 500,
    "NaN",
    "-1",
    "0001-01-01",
    "9999-12-31",
    "{\"__proto__\": 1}",
    "[]",
]


def hostile_values(annotation):
    if annotation in (str, "str"):
        return HOSTILE_STRINGS
    origin = typing.get_origin(annotation)
    args = typing.get_args(annotation)
    if origin is typing.Union and type(None) in args:
        return [None] + hostile_values(next(a for a in args if a is not type(None)))
    if annotation in (bool, "bool"):
        return [True, False]
    if annotation in (bytes, "bytes"):
        return [b"", b"\x00" * 31, b"\xff" * 33]
    if annotation is hv.Service or annotation == "Service":
        return [hv.Service.HEALTH, hv.Service.SOCIAL_CARE]
    if annotation is hv.FieldValue or annotation == "FieldValue":
        return [
            hv.FieldValue.INTEGER(-(2**63)),
            hv.FieldValue.INTEGER(2**63 - 1),
            hv.FieldValue.DECIMAL("NaN"),
            hv.FieldValue.DECIMAL("-0.0"),
            hv.FieldValue.DECIMAL("1e308"),
            hv.FieldValue.TEXT("x" * 100_000),
            hv.FieldValue.EMPTY(),
        ]
    if origin in (list, typing.List) and args and args[0] is hv.Amendment:
        return [[hv.Amendment(path=s, new_value_json=s) for s in HOSTILE_STRINGS[:6]]]
    if origin in (list, typing.List) and args and args[0] is hv.TeamMember:
        # Report team names: none, hostile ids and names, and many of them.
        return [
            [],
            [hv.TeamMember(user_id=s, name=s) for s in HOSTILE_STRINGS[:6]],
            [hv.TeamMember(user_id=str(i), name="x" * 10_000) for i in range(200)],
        ]
    if annotation is hv.TransitionDetails or annotation == "TransitionDetails":
        return [hv.TransitionDetails(reason="", event_date="32/13/2026", supplier="\u202e" * 1000)]
    if isinstance(annotation, type) and issubclass(annotation, enum.Enum):
        return list(annotation)
    if annotation in RECORD_INPUTS:
        return hostile_records(annotation)
    return None


# Typed input records (visits, safeguarding, carer training): every field a hostile value.
RECORD_INPUTS = (
    hv.VisitPlanInput,
    hv.VisitResultInput,
    hv.SafeguardingUpdate,
    hv.SafeguardingConcernInput,
    hv.CarerTrainingInput,
)


def hostile_records(cls):
    params = [p for p in inspect.signature(cls.__init__).parameters.values() if p.name != "self"]
    hints = typing.get_type_hints(cls.__init__, globalns=vars(hv))
    out = []
    for k in range(3):
        kwargs = {}
        for p in params:
            values = hostile_values(hints.get(p.name)) or [None]
            kwargs[p.name] = values[k % len(values)]
        out.append(cls(**kwargs))
    return out


class Recorder(hv.CaseloadObserver, hv.RecordObserver):
    def on_caseload(self, caseload):
        pass

    def on_record_changed(self, record_id):
        pass


def test_every_store_function_answers_hostile_input_with_typed_errors(path):
    s = hv.Store.create(path, KEY, identity(hv.Role.OT))
    child = s.create_child("Hostile", "Input", "2015-01-01")
    calls = 0
    for name, fn in inspect.getmembers(hv.Store, predicate=inspect.isfunction):
        if name.startswith("_") or name in ("close_store",):
            continue
        sig = inspect.signature(fn)
        params = [p for p in sig.parameters.values() if p.name != "self"]
        hints = typing.get_type_hints(fn, globalns=vars(hv))
        for position in range(len(params)):
            # Vary one parameter over hostile values, the others fixed to a real child id or a
            # plain value, so each hostile value reaches the code that checks it.
            for bad in hostile_values(hints.get(params[position].name)) or []:
                args = []
                for i, p in enumerate(params):
                    h = hints.get(p.name)
                    if i == position:
                        args.append(bad)
                    elif h in (str,) or p.name.endswith("_id"):
                        args.append(child if p.name.endswith("_id") else "path")
                    else:
                        values = hostile_values(h)
                        args.append(values[0] if values else Recorder())
                try:
                    getattr(s, name)(*args)
                except hv.HomeVisitError:
                    pass
                calls += 1
    assert calls > 500, calls
    # The store still works after all of that (the first child may have been marked entered
    # in error by one of the calls, which hides it from the caseload, as it should).
    again = s.create_child("Still", "Working", "2015-01-02")
    assert any(c.child_id == again for c in s.caseload())


def test_hostile_identity_and_key_are_typed_errors(path):
    bad = identity(hv.Role.OT)
    bad.user_id = "nope"
    with pytest.raises(hv.HomeVisitError.InvalidInput):
        hv.Store.open(path, KEY, bad)
    with pytest.raises(hv.HomeVisitError.InvalidInput):
        hv.Store.create(path, b"short", identity(hv.Role.OT))
    with pytest.raises(hv.HomeVisitError):
        hv.Store.open("/proc/definitely/not/here.db", KEY, identity(hv.Role.OT))


def test_open_never_creates_a_store_and_create_never_replaces_one(path):
    with pytest.raises(hv.HomeVisitError.StoreFile) as missing:
        hv.Store.open(path, KEY, identity(hv.Role.OT))
    assert missing.value.problem == hv.StoreFileProblem.MISSING
    assert not os.path.exists(path)
    open(path, "wb").close()
    with pytest.raises(hv.HomeVisitError.StoreFile) as empty:
        hv.Store.open(path, KEY, identity(hv.Role.OT))
    assert empty.value.problem == hv.StoreFileProblem.EMPTY
    assert os.path.getsize(path) == 0
    hv.Store.create(path, KEY, identity(hv.Role.OT)).close_store()
    with pytest.raises(hv.HomeVisitError.StoreFile) as exists:
        hv.Store.create(path, KEY, identity(hv.Role.OT))
    assert exists.value.problem == hv.StoreFileProblem.ALREADY_EXISTS
