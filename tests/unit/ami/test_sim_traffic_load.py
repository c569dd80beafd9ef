"""Demo traffic behaves like queues.conf says (ringinuse = no) and is sized to the lawyers on duty."""

from __future__ import annotations

import itertools
from collections import defaultdict

from hotline.ami.sim_queues import SimQueues
from hotline.ami.sim_traffic import DemoTraffic, TrafficProfile
from hotline.ami.simulator import AmiSimulator


def _traffic(profile: TrafficProfile, lawyers: int) -> tuple[DemoTraffic, list[float]]:
    clock = [1_000_000.0]
    queues = SimQueues(["consult", "family"])
    traffic = DemoTraffic(AmiSimulator(handlers=[queues]), queues, profile, seed=3, clock=lambda: clock[0])
    for n in range(lawyers):
        for queue in ("consult", "family"):
            queues.observe({"Event": "QueueMemberAdded", "Queue": queue, "Interface": f"PJSIP/10{n:02d}",
                            "MemberName": f"律师{n}", "Status": "1", "Paused": "0"}, 0.0)  # fmt: skip
    return traffic, clock


def _events(traffic: DemoTraffic) -> list[dict[str, str]]:
    found = []
    for at, _, raw in sorted(traffic._heap):
        fields = dict(line.split(": ", 1) for line in raw.decode().split("\r\n") if ": " in line)
        found.append({**fields, "at": str(at)})
    return found


def test_a_lawyer_on_a_call_is_never_rung_for_another() -> None:
    # Far more callers than two lawyers can take: the overload must not make them ring while talking.
    traffic, clock = _traffic(TrafficProfile(calls_per_minute=30, patience_s=(5.0, 200.0)), lawyers=2)
    for _ in range(2000):
        clock[0] += 2.0
        traffic.new_call(clock[0])
    talking: dict[str, list[tuple[float, float]]] = defaultdict(list)
    started: dict[tuple[str, str], float] = {}
    events = _events(traffic)
    for e in events:
        key = (e.get("Interface", ""), e.get("Linkedid", ""))
        if e["Event"] == "AgentConnect":
            started[key] = float(e["at"])
        elif e["Event"] == "AgentComplete":
            talking[key[0]].append((started.pop(key), float(e["at"])))
    rung = [(e["Interface"], float(e["at"]), e["Linkedid"]) for e in events if e["Event"] == "AgentCalled"]
    assert rung and sum(len(v) for v in talking.values()) > 30
    for interface, at, _ in rung:
        assert not any(begin < at < end for begin, end in talking[interface]), f"{interface} rung at {at} while talking"
    for spans in talking.values():  # one call at a time
        spans.sort()
        assert all(a[1] <= b[0] for a, b in itertools.pairwise(spans))


def test_the_default_rate_follows_the_lawyers_on_duty_and_a_fixed_rate_is_a_stress_knob() -> None:
    sized = TrafficProfile()
    two, _ = _traffic(sized, lawyers=2)
    four, _ = _traffic(sized, lawyers=4)
    cycle_s = sum(sized.talk_s) / 2 + sized.wrapup_s + sized.ring_s
    assert two.lawyers_on_duty() == 2
    assert abs(two.rate_per_s() - sized.occupancy * 2 / cycle_s) < 1e-9
    assert abs(four.rate_per_s() - 2 * two.rate_per_s()) < 1e-9
    nobody, _ = _traffic(sized, lawyers=0)
    assert 0 < nobody.rate_per_s() < two.rate_per_s()
    stress, _ = _traffic(TrafficProfile(calls_per_minute=120), lawyers=2)
    assert stress.rate_per_s() == 2.0
