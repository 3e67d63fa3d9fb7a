#!/usr/bin/env python3
"""Read a cibridge topic from Redis with a consumer group, across all its shards.

    pip install "redis>=5,<8"
    python3 examples/redis_consumer.py --url redis://127.0.0.1:6379 --topic task-finish \
        --group billing --consumer worker-1

Every envelope cibridge publishes goes to the shard stream of its topic,
ci:<topic>:<n> for n in 0 .. shards-1 (redis.shards, default 4); one workflow's
events always share a shard (zlib.crc32(partitionkey) % shards), in order.
This consumer
  - creates the group on every shard where it is missing (from the start of the stream),
  - first re-reads what this consumer was given and never acknowledged (it died),
  - then reads new entries, handles each, and acknowledges it (XACK) only after,
  - and claims (XAUTOCLAIM) entries another consumer left pending longer than --claim-idle.
So every event is handled at least once; handle() should tolerate a repeat
(the envelope's "id" is stable: deduplicate on it if you must).
"""
import argparse
import json
import sys
import time

import redis


def handle(envelope: dict) -> None:
    """Your processing. Here: print the envelope as one JSON line."""
    print(json.dumps(envelope, ensure_ascii=False, separators=(",", ":"), sort_keys=True), flush=True)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", default="redis://127.0.0.1:6379")
    parser.add_argument("--topic", default="task-finish", help="task-finish, workflow-finish, moderation or events")
    parser.add_argument("--prefix", default="ci:", help="redis.topic_* names are <prefix><topic> by default")
    parser.add_argument("--shards", type=int, default=4, help="redis.shards of the serving cibridge")
    parser.add_argument("--group", required=True)
    parser.add_argument("--consumer", required=True)
    parser.add_argument("--claim-idle", type=float, default=30.0, help="seconds before another consumer's entry is claimed")
    parser.add_argument("--idle-exit", type=float, default=0, help="stop after this many seconds without an entry (0: never)")
    args = parser.parse_args()

    # RESP2 replies (lists), whatever the client's default protocol.
    r = redis.Redis.from_url(args.url, protocol=2)
    streams = [f"{args.prefix}{args.topic}:{shard}" for shard in range(args.shards)]
    for stream in streams:
        try:
            r.xgroup_create(stream, args.group, id="0", mkstream=True)
        except redis.ResponseError as error:
            if "BUSYGROUP" not in str(error):
                raise

    def process(stream, entries):
        for entry_id, fields in entries:
            if fields and b"envelope" in fields:
                handle(json.loads(fields[b"envelope"]))
            r.xack(stream, args.group, entry_id)  # only after handle() returned

    # What this consumer was given before and never acknowledged.
    for stream in streams:
        while True:
            reply = r.xreadgroup(args.group, args.consumer, {stream: "0"}, count=100)
            entries = reply[0][1] if reply else []
            if not entries:
                break
            process(stream, entries)

    last_entry = time.monotonic()
    next_claim = 0.0
    while True:
        if time.monotonic() >= next_claim:
            next_claim = time.monotonic() + max(args.claim_idle / 2, 0.2)
            for stream in streams:
                cursor = "0-0"
                while True:
                    cursor, claimed, *_ = r.xautoclaim(
                        stream, args.group, args.consumer, int(args.claim_idle * 1000), start_id=cursor, count=100)
                    if claimed:
                        last_entry = time.monotonic()
                        process(stream, claimed)
                    if cursor in (b"0-0", "0-0"):
                        break
        reply = r.xreadgroup(args.group, args.consumer, {s: ">" for s in streams}, count=100, block=500)
        if reply:
            last_entry = time.monotonic()
            for stream, entries in reply:
                process(stream.decode(), entries)
        elif args.idle_exit and time.monotonic() - last_entry >= args.idle_exit:
            return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except KeyboardInterrupt:
        sys.exit(130)
