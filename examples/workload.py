"""A small, real workload for the example sweep: hash SIZE KiB of data on WORKERS threads.

hashlib releases the GIL on large buffers, so more workers really do finish
sooner: the sweep shows a measurable effect of both parameters.
"""

import argparse
import hashlib
import os
import sys
import time
from concurrent.futures import ThreadPoolExecutor


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--size", type=int, required=True, help="KiB to hash")
    parser.add_argument("--workers", type=int, required=True)
    args = parser.parse_args()
    if args.size <= 0 or args.workers <= 0:
        print("size and workers must be positive", file=sys.stderr)
        return 2
    chunk = os.urandom(1024 * max(1, args.size // args.workers))
    started = time.perf_counter()
    with ThreadPoolExecutor(args.workers) as pool:
        digests = list(pool.map(lambda _: hashlib.sha256(chunk).hexdigest(), range(args.workers)))
    elapsed = time.perf_counter() - started
    mib_per_s = args.size / 1024 / elapsed if elapsed > 0 else float("inf")
    print(f"hashed {args.size} KiB on {args.workers} workers in {elapsed * 1000:.3f} ms ({digests[0][:12]})")
    print(f"throughput={mib_per_s:.1f} MiB/s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
