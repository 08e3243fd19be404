#!/usr/bin/env bash
# The Cortex-M4 run alone; scripts/firmware.sh runs every core.
exec "$(dirname "$0")/firmware.sh" cortex-m4
