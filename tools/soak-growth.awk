# SPDX-License-Identifier: GPL-2.0-only
# The soak's growth checks (tools/soak.sh), apart so that tests/unit/test_soak_growth.c can feed
# them made-up runs: a daemon may grow after the warm-up only by what its stepped tables took
# (runtime/steps.h), and a table may only step when its peak of use needed it.
#   awk -v warm=<s> -v end=<s> -f tools/soak-growth.awk soak.tsv soak-tables.tsv
# soak.tsv: "t", then per daemon <d>_rss_kb <d>_tables_kb <d>_fds, then table sizes (<d>.<gauge>);
# one row per sample. soak-tables.tsv: "t daemon table capacity bytes max first steps peak", one row
# per sample, daemon and stepped table, as the daemons' stats print them (tables.<table>.*).
# Over the samples from warm to end, the highest value of the later half is held against the
# highest of the earlier half:
#   - RSS may exceed it by what the daemon's tables grew (<d>_tables_kb, likewise) and a slack of
#     2 % and 2 MB: a step towards a table's maximum is explained growth, printed with each table
#     that stepped ("soak growth" lines); more is a leak;
#   - fds by 4;
#   - a table size breathes with the rounds and with the frames the links lose (a registration
#     whose datagram was lost waits out a retransmission timer in its table), so its peaks land in
#     either half by chance: the 60-second run once read registrations in progress at 100, then
#     227. A leak moves the table's typical size instead: the later half's median is held against
#     the earlier half's, plus 25 % and 64 entries. Entries left behind for good are caught by the
#     drain check of soak.sh too, which wants every table empty once the load is over;
#   - not at all for the MGCP and H.248 histories (<proto>.txn.remembered), which keep each answer
#     for T-hist and so follow the command rate: a leak there is an answer never let go, which
#     the drain check catches too.
# At every sample, a table that took steps must have a peak past its capacity before the last of
# them (first * 2^(steps - 1), at most max): a step nothing needed is a leak of the table's room.
# Prints "soak growth ..." and "soak check ok|FAIL ..." lines.

function before_last_step(first, steps, max, c, s)
{
	c = first
	for (s = 1; s < steps && c < max; s++)
		c *= 2
	return c > max ? max : c
}

# The highest value of column i in the earlier (h = 1) or later (h = 2) half; -1 when a sample
# could not be read (its value is negative).
function highest(i, h, r, x, m)
{
	m = -1
	for (r = (h == 1 ? 1 : half + 1); r <= (h == 1 ? half : rows); r++) {
		x = v[r, i] + 0
		if (x < 0)
			return -1
		if (x > m)
			m = x
	}
	return m
}

# The median of column i in the earlier (h = 1) or later (h = 2) half (the lower of the middle two
# when the half has an even number of samples); -1 when a sample could not be read.
function median(i, h, r, x, n, s, j)
{
	n = 0
	for (r = (h == 1 ? 1 : half + 1); r <= (h == 1 ? half : rows); r++) {
		x = v[r, i] + 0
		if (x < 0)
			return -1
		for (j = ++n; j > 1 && s[j - 1] > x; j--) # insertion sort: a few dozen samples
			s[j] = s[j - 1]
		s[j] = x
	}
	return n ? s[int((n + 1) / 2)] : -1
}

function rss_check(i, d, j, a, b, ta, tb, grew, lim, k)
{
	d = name[i]
	sub(/_rss_kb$/, "", d)
	j = col[d "_tables_kb"]
	a = highest(i, 1)
	b = highest(i, 2)
	ta = j ? highest(j, 1) : -1
	tb = j ? highest(j, 2) : -1
	if (a < 0 || b < 0 || ta < 0 || tb < 0) {
		printf "soak check FAIL %s: a sample of RSS or of its tables (%s_tables_kb) could not be read\n",
		    name[i], d
		return
	}
	grew = tb > ta ? tb - ta : 0
	for (k = 1; k <= n_stepped[d]; k++)
		print "soak growth " d " " stepped[d, k]
	lim = a + grew + int(a * 0.02) + 2048
	if (b > lim)
		printf "soak check FAIL %s grew after the warm-up more than its tables took: %d, then %d; tables +%d kB (limit %d): unexplained growth\n",
		    name[i], a, b, grew, lim
	else if (grew > 0)
		printf "soak check ok %s grew after the warm-up only as its tables stepped towards their maximum: %d, then %d; tables +%d kB (limit %d)\n",
		    name[i], a, b, grew, lim
	else
		printf "soak check ok %s flat after the warm-up: %d, then %d\n", name[i], a, b
}

# Later against earlier, of fds (highest of each half, by 4 at most) or a table's size (median
# of each half, by 25 % and 64 entries at most).
function growth_check(i, is_fds, a, b, lim, how)
{
	a = is_fds ? highest(i, 1) : median(i, 1)
	b = is_fds ? highest(i, 2) : median(i, 2)
	if (a < 0 || b < 0) {
		printf "soak check FAIL %s: a sample could not be read\n", name[i]
		return
	}
	lim = is_fds ? a + 4 : int(a * 1.25) + 64
	how = is_fds ? "" : "median "
	if (b > lim)
		printf "soak check FAIL %s grew after the warm-up: %s%d, then %d (limit %d)\n", name[i],
		    how, a, b, lim
	else
		printf "soak check ok %s flat after the warm-up: %s%d, then %d\n", name[i], how, a, b
}

FNR == 1 {
	file++
}

file == 1 && FNR == 1 {
	for (i = 2; i <= NF; i++) {
		name[i] = $i
		col[$i] = i
	}
	n = NF
	next
}

file == 1 {
	if ($1 >= warm && $1 <= end) {
		rows++
		for (i = 1; i <= n; i++)
			v[rows, i] = $i
	}
	next
}

file == 2 && FNR == 1 {
	next
}

# t daemon table capacity bytes max first steps peak
file == 2 {
	d = $2
	key = d SUBSEP $3
	if (!(key in listed)) {
		listed[key] = 1
		n_tables[d]++
		table_name[d, n_tables[d]] = $3
	}
	if ($8 > 0 && $9 <= (bl = before_last_step($7, $8, $6)) && !(key in unneeded)) {
		unneeded[key] = 1
		why[d] = why[d] sprintf("%s%s (%d of %d entries after %d steps, peak %d, %d before the last step, at %d s)",
		    why[d] == "" ? "" : "; ", $3, $4, $6, $8, $9, bl, $1)
	}
	if ($1 >= warm && $1 <= end) {
		if (!(key in cap0)) {
			cap0[key] = $4
			bytes0[key] = $5
		}
		cap1[key] = $4
		bytes1[key] = $5
		max1[key] = $6
		peak1[key] = $9
	}
	next
}

END {
	if (rows < 2) {
		print "soak check FAIL too few samples after the warm-up (" rows ")"
		exit
	}
	half = int(rows / 2)
	# what stepped after the warm-up, per daemon, in the order its stats list the tables
	for (i = 2; i <= n; i++) {
		if (name[i] !~ /_rss_kb$/)
			continue
		d = name[i]
		sub(/_rss_kb$/, "", d)
		for (t = 1; t <= n_tables[d]; t++) {
			key = d SUBSEP table_name[d, t]
			if (!(key in cap0) || cap1[key] <= cap0[key])
				continue
			stepped[d, ++n_stepped[d]] = sprintf("tables.%s: %d -> %d entries (max %d), +%d kB, peak %d",
			    table_name[d, t], cap0[key], cap1[key], max1[key],
			    (bytes1[key] - bytes0[key]) / 1024, peak1[key])
		}
	}
	for (i = 2; i <= n; i++) {
		if (name[i] ~ /_tables_kb$/)
			continue # RSS's explanation, checked with it
		if (name[i] ~ /\.txn\.remembered$/)
			continue # kept for T-hist, so it follows the command rate: soak.sh checks it empties
		if (name[i] ~ /_rss_kb$/)
			rss_check(i)
		else
			growth_check(i, name[i] ~ /_fds$/)
	}
	for (i = 2; i <= n; i++) {
		if (name[i] !~ /_rss_kb$/)
			continue
		d = name[i]
		sub(/_rss_kb$/, "", d)
		if (!n_tables[d])
			printf "soak check FAIL %s: its stats list no stepped table (tables.*)\n", d
		else if (why[d] != "")
			printf "soak check FAIL %s: a table stepped with no peak of use that needed it: %s\n",
			    d, why[d]
		else
			printf "soak check ok %s: each step of its %d stepped tables was needed by their peak of use\n",
			    d, n_tables[d]
	}
}
