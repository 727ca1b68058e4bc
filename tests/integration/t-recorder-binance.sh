#!/usr/bin/env bash
# Binance spot through the venue interface, against the simulator's
# Binance (JSON depthUpdate pushes, live SUBSCRIBE with ids, REST
# /api/v3/depth, at most 5 inbound messages a second per connection,
# serverShutdown before each lifetime close): the whole-book suite of
# lib-recorder.sh (shared with MEXC), where 35 pairs take one connection
# (1024 streams each) and serverShutdown makes the recorder roll each
# connection over to a new one before the old one closes.
# shellcheck source=SCRIPTDIR/../sim/lib.sh
. "$(dirname "$0")/../sim/lib.sh"
# shellcheck source=SCRIPTDIR/lib-recorder.sh
. "$(dirname "$0")/lib-recorder.sh"

wholebook_suite binance 1 1
