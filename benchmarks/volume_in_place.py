"""Cost of one VolumeExplorer change when its volumes are updated in place (issue #25).

Run:  .venv/bin/python benchmarks/volume_in_place.py

The explorer (photo, 50 pixels, 100 kernels, on Agg) switches its kernel size between 3 and 5,
40 times each way, in interleaved turns of the same run:

* baseline ("new artists"): every image and collection removed and drawn again, as ``_draw`` did
  before (forced here by making the drawn slice count look stale);
* "in place": the faces, slice images and fronts of the volumes moved and refilled.

It prints the median and 95th percentile (wall time of one ``set``, milliseconds) and the ratio of
the medians (in place / new artists).
"""

import statistics
import time

import matplotlib

matplotlib.use("Agg")

from rfmaps.widgets import VolumeExplorer  # noqa: E402


def main(turns: int = 40) -> None:
    explorer = VolumeExplorer("photo", size=50, kernels=100)
    times = {"new artists": [], "in place": []}
    for _ in range(turns):
        for kind, seconds in times.items():
            if kind == "new artists":  # a slice count that never matches: remove and re-create every artist
                explorer._volumes = ({"images": [None] * 99},) + explorer._volumes[1:]
            other = 3 if explorer.controls["kernel_size"].value == 5 else 5
            start = time.perf_counter()
            explorer.set(kernel_size=other)
            seconds.append(time.perf_counter() - start)
    for kind, seconds in times.items():
        ms = sorted(1000 * s for s in seconds)
        print(f"{kind:12s} median {statistics.median(ms):6.1f} ms   p95 {ms[int(0.95 * (len(ms) - 1))]:6.1f} ms")
    ratio = statistics.median(times["in place"]) / statistics.median(times["new artists"])
    print(f"ratio of medians (in place / new artists): {ratio:.2f}")
    explorer.close()


if __name__ == "__main__":
    main()
