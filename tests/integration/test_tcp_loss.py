# SPDX-License-Identifier: BSD-3-Clause
"""riptide's TCP against Linux peers through every impairment at once (loss
5 %, reordering, duplicates, corruption) with a random seed, both ways, with
the Linux ends' SACK on and off (issue 14, item 7): every transfer arrives
byte-exact (SHA-256 at the receiver) within its time bound. The seed is
printed so that a failure can be replayed with scripts/bench/loss.sh
--first-seed. Speed is loss.sh's business, not this test's."""
import json
import os
import random

import pytest

from conftest import ROOT, is_root, run

LOSS = os.path.join(ROOT, "scripts", "bench", "loss.sh")
SPEC = "loss=5%,reorder=10%:3,dup=1%,corrupt=0.1%"


@pytest.mark.parametrize("linux_sack", [1, 0])
def test_transfers_byte_exact_through_combined_impairments(tmp_path, linux_sack):
    if not is_root():
        pytest.skip("needs root (namespaces, TAP)")
    seed = random.randint(1, 1 << 30)
    print(f"seed {seed}, Linux tcp_sack={linux_sack}")
    out = tmp_path / "loss.json"
    r = run([LOSS, "--mb", "2", "--seeds", "1", "--first-seed", str(seed), "--spec", SPEC,
             "--linux-sack", str(linux_sack), "--timeout", "60", "--json", str(out)],
            check=False, timeout=400)
    assert r.returncode == 0, f"seed {seed}\n" + r.stdout[-3000:] + r.stderr[-3000:]
    doc = json.loads(out.read_text())
    assert doc["params"]["first_seed"] == seed, doc["params"]
    rows = doc["results"]
    assert {row["direction"] for row in rows} == {"send", "recv"}, rows
    for row in rows:
        # riptide's transfer and Linux's, each whole.
        assert row["exact"] == row["transfers"] == 2, (seed, row)
        assert all(x["riptide_s"] < 60 for x in row["rounds"]), (seed, row)
