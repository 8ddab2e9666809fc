# SPDX-License-Identifier: GPL-2.0-only
# What the network-namespace tests share: the rig (tools/rig-lib.sh) and TAP output.
. "$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/../../tools/rig-lib.sh"

. "$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/tap.sh"

need_root() {
	rig_possible || skip_all "needs root and network namespaces"
}
