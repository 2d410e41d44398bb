#!/bin/sh
# Every plugin we build exports exactly one symbol, the ABI entry point
# (plus the few the linker defines in every shared object). A second symbol
# means -fvisibility=hidden was lost and plugin internals can collide with
# the host's. Usage: check_plugin_exports.sh PLUGIN.so...
status=0
for so in "$@"; do
    if [ ! -f "$so" ]; then
        echo "FAIL $so: not built"
        status=1
        continue
    fi
    syms=$(nm -D --defined-only "$so" | awk '{print $3}' |
        grep -v -x -e _init -e _fini -e __bss_start -e _edata -e _end | sort)
    if [ "$syms" = "rocky_plugin_entry" ]; then
        echo "ok   $so exports only rocky_plugin_entry"
    else
        echo "FAIL $so exports:" $syms
        status=1
    fi
done
exit $status
