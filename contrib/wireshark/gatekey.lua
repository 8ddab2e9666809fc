-- SPDX-License-Identifier: GPL-2.0-only
-- The gk-mac trailer for Wireshark and tshark. A gk-mac terminal's signalling datagrams, and the
-- core leg between sbcd and softswitchd, end in the 32-byte trailer of include/gatekey/fastpath/trailer.h,
-- which the SIP, MGCP, MEGACO and H.225.0 RAS dissectors would read as part of the message (stray
-- characters after a SIP body, a malformed MEGACO transaction list). This dissector takes the
-- UDP ports of those protocols, shows the trailer in a subtree of its own, and hands the message
-- without it to the protocol's dissector; a datagram without a trailer goes to the dissector the
-- port had before, untouched.
--
--   tshark -X lua_script:/usr/local/share/gatekey/wireshark/gatekey.lua -r capture.pcapng
--   or copy it to ~/.local/lib/wireshark/plugins/; the ports are preferences (Edit >
--   Preferences > Protocols > GATEKEY, or tshark -o gatekey.sip_ports:5060,5070)

local TRAILER_LEN = 32 -- GK_TRAILER_LEN
local MAGIC0, MAGIC1, VERSION = 0x47, 0x4b, 1 -- 'G' 'K', GK_TRAILER_VERSION
-- Terminal indexes count from 1 up to the registrar's table size; a core-leg epoch is a realtime
-- second (include/gatekey/exchange/coreleg.h). An index this large is taken for an epoch and shown as a
-- date as well: no registrar holds a billion terminals.
local EPOCH_MIN = 1000000000

local gk = Proto("gatekey", "gatekey gk-mac trailer")

local f = {
	magic = ProtoField.string("gatekey.magic", "Magic"),
	version = ProtoField.uint8("gatekey.version", "Version"),
	flags = ProtoField.uint8("gatekey.flags", "Flags", base.HEX),
	index = ProtoField.uint32("gatekey.index", "Index", base.DEC,
		nil, nil, "Terminal index; on the core leg, the sender's epoch"),
	epoch = ProtoField.absolute_time("gatekey.epoch", "Epoch", base.UTC,
		"The index read as a core-leg epoch (realtime seconds)"),
	seq = ProtoField.uint64("gatekey.seq", "Sequence number"),
	tag = ProtoField.bytes("gatekey.tag", "Tag", base.NONE,
		"SipHash-2-4-128 of the message and trailer bytes 0..15 under the sender's key"),
}
gk.fields = { f.magic, f.version, f.flags, f.index, f.epoch, f.seq, f.tag }

-- Problems a receiver would drop the datagram for, whatever its key: warnings, not errors, since
-- the datagram itself dissects. Nothing else is flagged: a tag can only be checked with the key.
local ex = {
	seq_zero = ProtoExpert.new("gatekey.seq_zero",
		"Sequence number 0: never sealed, every verifier drops it",
		expert.group.SEQUENCE, expert.severity.WARN),
	empty = ProtoExpert.new("gatekey.empty",
		"A trailer with no message before it: no codec reads an empty message",
		expert.group.PROTOCOL, expert.severity.WARN),
}
gk.experts = { ex.seq_zero, ex.empty }

-- The ports gatekey signals on (lib/fastpath/fastpath.c, sbcd's fastpath.port defaults) and the dissector
-- that reads each protocol's message. gatekey's H.248 is text (MEGACO) on 2945 too, where
-- Wireshark expects binary H.248.
local kinds = {
	{ pref = "sip_ports", label = "SIP ports", default = "5060", dissector = "sip" },
	{ pref = "mgcp_ports", label = "MGCP ports", default = "2427,2727", dissector = "mgcp" },
	{ pref = "h248_ports", label = "H.248 (text) ports", default = "2944,2945",
	  dissector = "megaco" },
	{ pref = "ras_ports", label = "H.225.0 RAS ports", default = "1719",
	  dissector = "h225.ras" },
}
for _, k in ipairs(kinds) do
	gk.prefs[k.pref] = Pref.range(k.label, k.default,
		"UDP ports on which " .. k.label:match("^(.-) ports") ..
		" datagrams may end in a gk-mac trailer", 65535)
	k.handle = Dissector.get(k.dissector)
end

local udp_port = DissectorTable.get("udp.port")
local data = Dissector.get("data")
local originals = {} -- port -> the dissector the port had before this script (false: none)
local taken = {}     -- port -> the entry of kinds it is registered for

-- "2427,2727" or "2944-2945" -> list of ports
local function ports_of(range)
	local ports = {}
	for item in tostring(range or ""):gmatch("[^,%s]+") do
		local lo, hi = item:match("^(%d+)%-(%d+)$")
		lo, hi = tonumber(lo or item), tonumber(hi or item)
		if lo and hi then
			for port = math.max(lo, 1), math.min(hi, 65535) do
				ports[#ports + 1] = port
			end
		end
	end
	return ports
end

-- Registered at load and again whenever the port preferences change: ports no longer listed get
-- their own dissector back.
local function take_ports()
	for port in pairs(taken) do
		udp_port:remove(port, gk)
		if originals[port] then
			udp_port:add(port, originals[port])
		end
	end
	taken = {}
	for _, k in ipairs(kinds) do
		for _, port in ipairs(ports_of(gk.prefs[k.pref])) do
			if originals[port] == nil then
				originals[port] = udp_port:get_dissector(port) or false
			end
			taken[port] = k
			udp_port:add(port, gk)
		end
	end
end

-- What gk_pkt_peek (lib/fastpath/pktmac.c) takes for a trailer: 'G' 'K' and version 1 in the last 32
-- bytes. Flags are reserved but covered by the tag, so any value is a trailer.
local function has_trailer(tvb)
	local len = tvb:len()
	if len < TRAILER_LEN or len ~= tvb:reported_len() then
		return false -- too short, or cut by the snapshot length: the end is not there
	end
	local t = tvb(len - TRAILER_LEN, 3)
	return t(0, 1):uint() == MAGIC0 and t(1, 1):uint() == MAGIC1 and t(2, 1):uint() == VERSION
end

local function kind_of(pinfo)
	-- the port the UDP dissector found this dissector under; Decode As may use any other
	return taken[pinfo.match_uint] or taken[pinfo.dst_port] or taken[pinfo.src_port]
end

-- Dissector:call shows a dissector's exception (a malformed message) as Wireshark would, then
-- raises a Lua error of its own, which would add a second, misleading complaint and stop this
-- dissector before it shows the trailer: the exception is enough.
local function call(d, tvb, pinfo, tree)
	local ok, used = pcall(d.call, d, tvb, pinfo, tree)
	if not ok then
		return tvb:len()
	end
	return used
end

function gk.dissector(tvb, pinfo, tree)
	if not has_trailer(tvb) then
		local orig = originals[pinfo.match_uint]
		if orig then
			return call(orig, tvb, pinfo, tree)
		end
		return 0 -- nothing had the port: the UDP dissector goes on as without this script
	end

	local len = tvb:len()
	local mlen = len - TRAILER_LEN
	local kind = kind_of(pinfo)
	if mlen > 0 then
		local msg = tvb(0, mlen):tvb()
		local used = 0
		if kind and kind.handle then
			used = call(kind.handle, msg, pinfo, tree)
		end
		if used == 0 then
			call(data, msg, pinfo, tree)
		end
	end

	local t = tvb(mlen, TRAILER_LEN)
	local index = t(4, 4):uint()
	local seq = t(8, 8):uint64()
	local st = tree:add(gk, t)
	st:add(f.magic, t(0, 2))
	st:add(f.version, t(2, 1))
	st:add(f.flags, t(3, 1))
	st:add(f.index, t(4, 4))
	if index >= EPOCH_MIN then
		st:add(f.epoch, t(4, 4), NSTime.new(index, 0)):set_generated()
	end
	local si = st:add(f.seq, t(8, 8))
	st:add(f.tag, t(16, 16))
	st:append_text(string.format(", Index: %u, Seq: %s", index, tostring(seq)))
	if seq == UInt64(0) then
		si:add_proto_expert_info(ex.seq_zero)
	end
	if mlen == 0 then
		st:add_proto_expert_info(ex.empty)
	end
	pinfo.cols.info:append(string.format(" [gk-mac index=%u seq=%s]", index, tostring(seq)))
	return len
end

function gk.prefs_changed()
	take_ports()
end

take_ports()
