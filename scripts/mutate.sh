#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
#
# mutate.sh - prove that the unit tests guard what they claim to guard. Each
# line of the table below is a one-line mutation of the source (a rule of
# TCP, of the stack or of the leak check switched off) and the tests that
# must fail when it is made. For each: the line is changed, the one unit
# binary rebuilt (a plain debug build, build-mutate/) and only the named tests
# run; a mutation that no named test notices is a failure.
#
# The mutations are made in a copy of the tree (build-mutate.src/, brought up
# to date with the working tree's files at each start), never in the tree
# itself: scripts/test.sh builds and runs the fuzzers from the tree while this
# runs, and a mutate.sh that is killed must not leave a mutated file behind.
#
# Usage: scripts/mutate.sh [--build DIR] [--junit FILE] [--list]
# Ends with 'N passed, N failed' (one per mutation caught or survived);
# --junit also writes one test case per mutation to FILE.
# Run by scripts/test.sh; about five minutes on two cores after the first build.
set -uo pipefail

cd "$(dirname "$0")/.."
build=build-mutate
junit=
list=0
while [ $# -gt 0 ]; do
	case "$1" in
	--build) build=$2; shift 2 ;;
	--junit) junit=$2; shift 2 ;;
	--list) list=1; shift ;;
	-h | --help) sed -n '4,15p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
	*) echo "mutate.sh: unknown argument '$1'" >&2; exit 2 ;;
	esac
done

# id | file | exact text (once in the file) | replacement | binary | gtest filter
MUTATIONS=$(cat <<'TABLE'
tcp-checksum|tcpstack/tcp_input.c|if (dp_ipv4_l4_cksum_rx_ok(m, ip, l3_off + ihl) != 0) {|if (0) {|tcpstack_unit|TcpState.BadChecksum_DroppedCounted_NoAnswer
rx-cksum-none|dataplane/dp_cksum.h|	case RTE_MBUF_F_RX_L4_CKSUM_NONE:|	case 0xdead:|tcpstack_unit|TcpState.RxCksumNone_PartialChecksum_NotDroppedAsBad
rx-cksum-bad|dataplane/dp_cksum.h|	case RTE_MBUF_F_RX_L4_CKSUM_BAD:|	case 0xbeef:|tcpstack_unit|TcpState.RxCksumBad_RightField_DroppedCounted_NoAnswer
rst-exact-seq|tcpstack/tcp_input.c|if (orig_seq != c->rcv_nxt) {|if (0 && orig_seq != c->rcv_nxt) {|tcpstack_unit|TcpState.Established_RstOutsideRcvNxt_ChallengeAck_ThenExactRstResets
icmp-guard|tcpstack/tcp_icmp.c|if (c != NULL && c->state == TCP_STATE_SYN_SENT && seq == c->iss)|if (c != NULL)|tcpstack_unit|TcpState.Established_IcmpUnreach_Soft_ConnectionLives:TcpState.SynSent_IcmpUnreachOtherSequence_Ignored
receiver-sws|tcpstack/tcp_output.c|	if (free > cur && free - cur < RTE_MIN(buf / 2, (uint32_t)c->rcv_mss))|	if (0)|tcpstack_unit|TcpSmallBuf.ReceiveSws_SmallReadKeepsWindowShut_LargerReadOpensIt:TcpSmallBuf.ReceiveSws_OpenWindow_RightEdgeDoesNotCreep
sender-sws|tcpstack/tcp_output.c|if (len < c->max_wnd / 2 && !sws_override)|if (0 && !sws_override)|tcpstack_unit|TcpData.SendSws_SmallOfferedWindow_NoTinySegment_FullWindowSends
seq-compare|tcpstack/tcp_seg.h|return (int32_t)(a - b) < 0;|return (int32_t)(a - b) <= 0;|tcpstack_unit|TcpSeq.*
paws|tcpstack/tcp_input.c|			!tcp_seq_lt(seg->opts.tsval, c->ts_recent))|			true)|tcpstack_unit|TcpState.Paws_OlderTimestamp_Rejected
gateway|tcpstack/stack.c|return (dst & mask) == (st->cfg.ip & mask) ? dst : st->cfg.gateway;|return (dst & mask) == (st->cfg.ip & mask) ? dst : 0;|tcpstack_unit|StackTest.Output_OffLink_ViaGateway_ArpsForTheGatewayNotTheDestination
keepalive-reset|tcpstack/tcp_input.c|	c->probes = 0; /* the peer is alive */|	/* mutated */|tcpstack_unit|TcpState.Keepalive_ExactProbeCount_AnswerResetsIt_ThenRstAndETIMEDOUT
user-timeout|tcpstack/tcp_timer.c|		d = RTE_MIN(d, c->rtx_since_ns + (uint64_t)c->user_timeout_ms * EX_NS_PER_MS);|		(void)d;|tcpstack_unit|TcpData.UserTimeout_UnansweredData_AliveBeforeDeadAfter_ETIMEDOUT
oow-ack-limit|tcpstack/tcp_input.c|		if (c->last_oow_ack_ns != 0 && now - c->last_oow_ack_ns < TCP_OOW_ACK_GAP_NS) {|		if (0) {|tcpstack_unit|TcpState.InvalidPureAcks_AnsweredOncePer500ms_DataAlways
paws-expiry|tcpstack/tcp_input.c|	return tcp_now_ns(c) - c->ts_recent_ns < TCP_PAWS_IDLE_NS;|	return true;|tcpstack_unit|TcpState.Paws_TsRecentExpiresAfter24DaysIdle
persist-any-window|tcpstack/tcp_output.c|	if (unsent > 0 && c->snd_nxt == c->snd_una && c->rtx_deadline == TCP_NO_DEADLINE) {|	if (unsent > 0 && c->snd_wnd == 0 && c->snd_nxt == c->snd_una && c->rtx_deadline == TCP_NO_DEADLINE) {|tcpstack_unit|TcpData.SmallWindow_UpdateLost_PersistSendsHeldBackSegment
nombuf-retry|tcpstack/tcp_timer.c|		if (!pending)|		if (!pending + 1)|tcpstack_unit|TcpData.NoMbufForTheFirstSegment_SentWhenTheTimerFires:TcpData.NoMbufForTheFin_OrphanStillClosesAndFinWait2TimesOut
orphan-retries|tcpstack/tcp_timer.c|			(c->backoff >= tcp->cfg.orphan_retries|			(c->backoff >= 200|tcpstack_unit|TcpData.Orphan_ZeroWindowAnsweredForever_GivenUpAfterOrphanRetries
ooo-tail|tcpstack/tcp_rcvq.c|		c->ooo_tail = e;|		(void)e;|tcpstack_unit|TcpData.OutOfOrder_RandomOrderAndOverlaps_ReassembledExactly_TailKept
pmtu-floor|tcpstack/tcp_icmp.c|	mtu = RTE_MAX(mtu, (uint16_t)TCP_PMTU_MIN);|	(void)0;|tcpstack_unit|TcpState.FragNeeded_QuotingDataInFlight_MssLowered_Resent
proto-unreach|tcpstack/stack.c|		stack_icmp_unreachable(st, m, sizeof(*eh), 2);|		(void)0;|tcpstack_unit|StackTest.UnknownProtocol_Unicast_ProtocolUnreachable
syncookie-check|tcpstack/tcp_listen.c|	if (!syncookie_match(tcp, seg, lip, rip))|	if (false)|tcpstack_unit|TcpState.SynCookie_WrongOrStale_Refused
syncookie-ts-round|tcpstack/tcp_listen.c|			val -= 0x20u << sh;|			(void)val;|tcpstack_unit|TcpState.SynCookie_TsvalNeverAheadOfTheClock
old-ack-window|tcpstack/tcp_input.c|	if (tcp_seq_geq(ack, c->snd_una) &&|	if (1 &&|tcpstack_unit|TcpState.OldAck_DoesNotShutTheWindow
keepalive-in-flight|tcpstack/tcp_timer.c|		if (c->snd_una != c->snd_max) {|		if (0) {|tcpstack_unit|TcpState.Keepalive_NotWhileDataIsInFlight
mem-budget|tcpstack/tcp_mem.c|	if (tcp->stats.mbufs_held < tcp->mbuf_budget && !pool_low(tcp, false))|	if (1)|tcpstack_unit|TcpMem.OutOfOrderAttackers_PrunedWithinBudget_ArpAndOthersStillServed:TcpMemBudget.*:TcpMemReserve.*
mem-reserve|tcpstack/tcp_mem.c|		tcp->pool_low = rte_mempool_avail_count(tcp->st->pool) < tcp->rx_reserve;|		tcp->pool_low = false;|tcpstack_unit|TcpMemReserve.*
mem-held-count|tcpstack/tcp_sock.c|	tcp_held(c, &c->sndq_segs, 1);|	(void)0;|tcpstack_unit|TcpMem.TinyMbufsGivenToSend_PackIntoTheTail_BytesIntact
snd-pack|tcpstack/tcp_sock.c|		} else if (m->data_len < TCP_PACK_BELOW && sndq_tail_room(c) >= m->data_len) {|		} else if (m->data_len < TCP_PACK_BELOW && sndq_tail_room(c) >= m->data_len + 65536u) {|tcpstack_unit|TcpMem.TinyMbufsGivenToSend_PackIntoTheTail_BytesIntact
ooo-pack|tcpstack/tcp_rcvq.c|	if (prev != NULL && prev->hash.usr + prev->data_len == s && l < TCP_PACK_BELOW &&|	if (0 && prev != NULL && l < TCP_PACK_BELOW &&|tcpstack_unit|TcpMemOoo.ContiguousTinyOutOfOrder_PackIntoOneMbuf
ooo-evict-highest|tcpstack/tcp_rcvq.c|	if (c->ooo_segs >= tcp_ooo_max(c) && t != NULL && tcp_seq_lt(s, t->hash.usr)) {|	if (0) {|tcpstack_unit|TcpMemOoo.FullQueue_LowerSegmentEvictsTheHighest
fin-purges-ooo|tcpstack/tcp_input.c|	tcp_ooo_prune(c, 0);|	(void)0;|tcpstack_unit|TcpData.FinInSequence_OutOfOrderDataBeyondItPurged
fin-window-edge|tcpstack/tcp_input.c|		c->rcv_adv = c->rcv_nxt;|		(void)0;|tcpstack_unit|TcpSmallBuf.FinAtClosedWindow_AdvertisedEdgeFollows
mem-fair-share|tcpstack/tcp_mem.c|	return tcp_conn_held(c) >= tcp->mbuf_budget / RTE_MAX(tcp->conns_holding, 1u);|	return true;|tcpstack_unit|TcpMemBudget.OverBudget_ReaderThatKeepsUp_NotStarvedByOneThatStopped
paws-disordered-ack|tcpstack/tcp_input.c|			c->ts_recent - seg->opts.tsval <= c->rto_us / 1000 + 1)|			false)|tcpstack_unit|TcpData.ReorderedPureDupAcks_NotRejectedByPaws
oow-stack-budget|tcpstack/tcp_input.c|		if (!oow_stack_budget(c->tcp, now)) {|		if (!oow_stack_budget(c->tcp, now) && 0) {|tcpstack_unit|TcpOowBudget.*
dropped-future-touches-nothing|tcpstack/tcp_sock.c|	(void)c; /* see accept_drop: rx_waiting stays as it is */|	c->rx_waiting = false;|tcpstack_unit|TcpSock.RecvDroppedAfterClose_SlotReused_NewReaderKeepsItsWakeup
limited-transmit|tcpstack/tcp_output.c|	return (uint32_t)c->dupacks * c->mss;|	return 0;|tcpstack_unit|TcpData.LimitedTransmit_ThenEveryDupAckInRecoveryInflates
recovery-inflate|tcpstack/tcp_input.c|} else if (c->flags & TCP_CONN_FLAG_RECOVERY) {|} else if (c->dupacks > 3 && (c->flags & TCP_CONN_FLAG_RECOVERY)) {|tcpstack_unit|TcpData.LimitedTransmit_ThenEveryDupAckInRecoveryInflates
leak-allowance|dataplane/dp_port.c|allowed += ports[i].pmd_held;|allowed += ports[i].pmd_held + 1;|dataplane_unit|DpPortLeak.*
idle-kick-remote|executor/ex_executor.c|		ex_idle_kick(dst);|		;|executor_unit|IdleEvents.ARemoteSpawnEndsTheSleep
idle-kick-stop|executor/ex_executor.c|__atomic_store_n(&ex->stop, 1, __ATOMIC_RELEASE);|__atomic_store_n(&ex->stop, 1, __ATOMIC_RELEASE); return;|executor_unit|IdleEvents.StopFromAnotherThreadEndsRun
idle-arm-work|executor/ex_idle.c|			pending = src->arm(src) != 0;|			src->arm(src);|executor_unit|IdleEvents.WorkFoundWhileArming_NoSleep
idle-all-sources|executor/ex_idle.c|	return ex->epfd >= 0 && ex->n_sources != 0 && ex->n_event_sources == ex->n_sources;|	return ex->epfd >= 0 && ex->n_event_sources != 0;|executor_unit|IdleEvents.ASourceWithoutAnEvent_NapsInstead
idle-kick-off|executor/ex_idle.c|		ex_idle_kick(ex);|		(void)ex;|executor_unit|IdleEvents.AKickedSource_SleepsOnEvents_AndTheKickAfterAnEnqueueWakesIt
wake-by-cap|executor/ex_idle.c|		cap = wake_by - now;|		cap = UINT64_MAX;|executor_unit|ExecutorIdle.Backoff_WakeBy_SleepsUpToTheEarliestDeadline_NotWhenItIsTooClose:IdleEvents.ASourcesDeadline_EndsTheSleepOnTime_AnEventStillEndsItSooner
wake-by-min|executor/ex_idle.c|if (wake_by < now + EX_WAKE_BY_MIN_NS)|if (wake_by < now)|executor_unit|ExecutorIdle.Backoff_WakeBy_SleepsUpToTheEarliestDeadline_NotWhenItIsTooClose
wake-by-earliest|executor/ex_executor.c|if (ex->wake_by_ns == 0 |if (1 |executor_unit|ExecutorIdle.Backoff_WakeBy_SleepsUpToTheEarliestDeadline_NotWhenItIsTooClose
tx-hold-sleeps|dataplane/dp_stream.c|		ex_wake_by(k->ex, k->last_send_ns + k->hold_ns);|		ex_stay_awake(k->ex);|dataplane_unit|DataplaneTest.TxHold_IdleLoopSleepsUntilTheHoldEnds_ThenSends
tx-fini-drain|dataplane/dp_stream.c|rte_get_tsc_cycles() - last < bound)|rte_get_tsc_cycles() - last < bound / 1000000)|dataplane_unit|DataplaneTest.TxFini_OffersWhatIsKeptWhileThePeerDrainsTheQueue
sack-negotiate|tcpstack/tcp_input.c|	if (cfg->sack && seg->opts.sack_permitted)|	if (cfg->sack)|tcpstack_unit|TcpSack.Passive_SynAckEchoesSackPermitted_OnlyIfOffered:TcpSack.Active_SynOffersIt_SynAckDecides
sack-clip|tcpstack/tcp_mem.c|	tcp_sack_clip(c); /* what went|	/* what went|tcpstack_unit|TcpSack.PrunedData_NoLongerReported
dsack-trim|tcpstack/tcp_input.c|		tcp_dsack_note(c, seg->seq, seg->seq + RTE_MIN(d, seg->len));|		;|tcpstack_unit|TcpSack.Duplicate_ReportedFirstOnce_DSack
sack-fit|tcpstack/tcp_output.c|	int32_t room = (int32_t)c->tcp->st->cfg.mtu - 40 - (int32_t)len -|	int32_t room = (int32_t)c->tcp->st->cfg.mtu - 40 - (int32_t)len * 0 -|tcpstack_unit|TcpSack.DataSegments_BlocksOnlyWhereTheyFit
sack-cookie|tcpstack/tcp_listen.c|	syn.opts.sack_permitted = seg->opts.has_ts && (enc & 0x10) != 0;|	syn.opts.sack_permitted = false;|tcpstack_unit|TcpSack.SynCookie_KeepsSackPermitted
sack-recent-first|tcpstack/tcp_rcvq.c|	c->sack[0] = b;|	c->sack[n] = b;|tcpstack_unit|TcpSack.OutOfOrder_LatestBlockFirst_ThenTheEarlierOnes
rack-dupthresh|tcpstack/tcp_recovery.c|		if (c->sb_sacked >= DUP_THRESH * (uint32_t)c->mss)|		if (0)|tcpstack_unit|TcpSack.Sender_OneCompressedSackAck_StartsFastRetransmit:TcpRecovery.Prr_ProportionalReduction_Rfc6937
tlp-arm|tcpstack/tcp_timer.c|	if (tlp_allowed(c) && now + pto_ns(c) < c->rtx_deadline) {|	if (0 && tlp_allowed(c) && now + pto_ns(c) < c->rtx_deadline) {|tcpstack_unit|TcpSack.Tlp_TailLost_ProbeAfterTwoSrtt_ItsSackStartsRecovery
rack-reo-window|tcpstack/tcp_recovery.c|	return RTE_MIN((uint32_t)RTE_MAX(c->reo_wnd_mult, 1) * c->min_rtt_us / 4, c->srtt_us);|	return 0;|tcpstack_unit|TcpRecovery.Rack_OneSegmentReordered_NotResentWithinTheWindow_ReorderingLearned
rack-lost-retrans|tcpstack/tcp_recovery.c|		e->xmit_ord = ord;|		e->xmit_ord = e->xmit_ord;|tcpstack_unit|TcpRecovery.Rack_SameInstant_ResendAfterNewData_NotLost
rack-order-of-sending|tcpstack/tcp_recovery.c|(int32_t)(o1 - o2) > 0|0|tcpstack_unit|TcpRecovery.Rack_SameInstant_OrderOfSendingDecides
rack-prior-fack|tcpstack/tcp_recovery.c|			tcp_seq_lt(e->right, c->rack_fack_prior))|			tcp_seq_lt(e->right, c->rack_fack))|tcpstack_unit|TcpRecovery.Rack_LostAckThenSack_NotReordering
tlp-in-recovery|tcpstack/tcp_timer.c|	       !(c->flags & (TCP_CONN_FLAG_LOSS |	       !(c->flags & TCP_CONN_FLAG_RECOVERY) && !(c->flags & (TCP_CONN_FLAG_LOSS |tcpstack_unit|TcpRecovery.Tlp_InRecovery_WhenTheAcksStop_ProbesTheHoleAgainAtTwiceThePto
eifel-fast-partial|tcpstack/tcp_recovery.c|	if (tcp_seq_lt(seg->ack, c->recover) && retrans_out(c, seg->ack))|	if (0 && retrans_out(c, seg->ack))|tcpstack_unit|TcpRecovery.Eifel_FastRecovery_PartialAck_WaitsForResends
eifel-fast|tcpstack/tcp_recovery.c|		c->rec_tsval = RTE_MAX(tcp_ts_now(c), 1u);|		c->rec_tsval = 0;|tcpstack_unit|TcpRecovery.Eifel_FastRecovery_LateOriginal_Undone
ss-delivered|tcpstack/tcp_input.c|			c->cwnd = RTE_MIN(c->cwnd + delivered, cap);|			c->cwnd = RTE_MIN(c->cwnd + RTE_MIN(delivered, 2u * c->mss), cap);|tcpstack_unit|TcpRecovery.SlowStart_GrowsByBytesDelivered_SackedIncluded
stretch-ack|tcpstack/tcp_input.c|			if (c->tcp->cfg.stretch_acks)|			if (0)|tcpstack_unit|TcpData.StretchAcks_OneAckPerBurst_OutOfOrderAtOnce
stretch-ack-unlist|tcpstack/tcp_conn.c|	tcp_ack_unlist(c); /* closed: owes no ACK */|	(void)0;|tcpstack_unit|TcpData.StretchAcks_ResetWithinTheBurst_NothingSent
prr-proportional|tcpstack/tcp_recovery.c|	if (pipe > c->ssthresh) {|	if (0) {|tcpstack_unit|TcpRecovery.Prr_ProportionalReduction_Rfc6937
rto-keeps-sacks|tcpstack/tcp_recovery.c|	bool reneged = c->sb_n != 0 && (SB(c)[0].flags & TCP_SB_SACKED);|	bool reneged = true;|tcpstack_unit|TcpRecovery.Rto_ResendsOnlyWhatWasNotSacked
rto-reneging|tcpstack/tcp_recovery.c|	bool reneged = c->sb_n != 0 && (SB(c)[0].flags & TCP_SB_SACKED);|	bool reneged = false;|tcpstack_unit|TcpRecovery.Rto_PeerReneged_EverythingResent
dsack-undo-range|tcpstack/tcp_recovery.c|			tcp_seq_leq(right, c->undo_high)) {|			true) {|tcpstack_unit|TcpRecovery.DsackOfUnrelatedData_NoUndo
dsack-undo|tcpstack/tcp_recovery.c|		if (c->undo_retrans == 0 && c->prior_cwnd != 0)|		if (0)|tcpstack_unit|TcpRecovery.DsackUndo_SpuriousRecovery_WindowRestored
eifel|tcpstack/tcp_recovery.c|		c->rto_tsval = (c->flags & TCP_CONN_FLAG_TS) ? tcp_ts_now(c) : 0;|		c->rto_tsval = 0;|tcpstack_unit|TcpRecovery.Eifel_SpuriousRto_UndoneNothingMoreResent
eifel-real-loss|tcpstack/tcp_recovery.c|			seg->opts.tsecr != 0 && tcp_seq_lt(seg->opts.tsecr, c->rto_tsval);|			seg->opts.tsecr != 0;|tcpstack_unit|TcpRecovery.Eifel_RealLoss_NoUndo
frto-new-data|tcpstack/tcp_output.c|	if (c->sb_lost != 0 && c->frto != TCP_FRTO_NEW_SENT && !output_lost(c))|	if (c->sb_lost != 0 && !output_lost(c))|tcpstack_unit|TcpFrto.NoSack_LateOriginals_SecondAckUndoes
frto-nosack-first-ack|tcpstack/tcp_recovery.c|c->frto == TCP_FRTO_NEW_SENT)) {|true)) {|tcpstack_unit|TcpFrto.NoSack_FirstAckCoversHeldData_HoleFoundNoUndo
frto-never-resent|tcpstack/tcp_recovery.c|	if (c->frto != TCP_FRTO_OFF && !(e->flags & TCP_SB_RETRANS) &&|	if (c->frto != TCP_FRTO_OFF &&|tcpstack_unit|TcpFrto.Sack_NewDataSackedAboveTheHole_RealLoss
frto-before-timeout|tcpstack/tcp_recovery.c|			tcp_seq_lt(e->left, c->frto_high))|			true)|tcpstack_unit|TcpFrto.Sack_NewDataSackedAboveTheHole_RealLoss
frto-3a-cwnd|tcpstack/tcp_recovery.c|				c->cwnd = 3u * c->mss;|				c->cwnd += 0;|tcpstack_unit|TcpFrto.NoSack_FirstAckCoversHeldData_HoleFoundNoUndo
hystart-css-growth|tcpstack/tcp_input.c|			delivered = RTE_MAX(delivered / 4, 1u);|			delivered = RTE_MAX(delivered, 1u);|tcpstack_unit|TcpHystart.RttRises_ConservativeThenCongestionAvoidance
hystart-threshold|tcpstack/tcp_cc.c|		if (h->cur_min_us >= h->last_min_us + thresh) {|		if (h->cur_min_us >= h->last_min_us + thresh / 4) {|tcpstack_unit|TcpHystart.SmallRise_NoExit_LossEndsIt
hystart-spurious|tcpstack/tcp_cc.c|	} else if (h->cur_min_us < h->css_base_us) {|	} else if (h->cur_min_us < h->css_base_us / 1000) {|tcpstack_unit|TcpHystart.RttFallsBackInCss_SlowStartResumes
hystart-css-rounds|tcpstack/tcp_cc.c|	if (h->state == TCP_HS_CSS && ++h->css_rounds >= HS_CSS_ROUNDS) {|	if (h->state == TCP_HS_CSS && ++h->css_rounds >= 50) {|tcpstack_unit|TcpHystart.RttRises_ConservativeThenCongestionAvoidance
hystart-from-first-round|tcpstack/tcp_cc.c|!h->started)|!c)|tcpstack_unit|TcpHystart.RttRises_ConservativeThenCongestionAvoidance
l4-one-per-protocol|tcpstack/stack.c|	if (stack_l4_find(st, proto) != NULL)|	if (st == NULL)|tcpstack_unit|StackTest.ProtocolTable_RegisteredProtocolGetsItsPackets_UnregisteredIsUnreachable
layout-check|executor/ex_executor.c|	if (layout != EX_LAYOUT) {|	if (layout == 0) {|executor_unit|TaskTest.Layout_SameWithOrWithoutRtNdebug_OtherLayoutRefused
spawn-before-loop|executor/ex_executor.c|	if (cur == NULL && rte_lcore_id() != LCORE_ID_ANY)|	if (cur == NULL && rte_lcore_id() == LCORE_ID_ANY)|executor_unit|ExecutorStart.SpawnFromMainBeforeTheLoopRuns
io-until-delimiter|tcpstack/tcp_sock.c|				take = (uint32_t)(d - p) + 1;|				take = (uint32_t)(d - p) + 2;|tcpstack_unit|TcpIo.ReadUntil_LineSplitAcrossSegments_TwoInOne
io-lines-crlf|tcpstack/tcp_sock.c|l->buf[l->line_len - 1] == '\r')|l->buf[l->line_len - 1] == 'X')|tcpstack_unit|TcpIo.Lines_Stream_StripsEndings_LastLineWithoutNewline
io-exact-eof|tcpstack/tcp_sock.c|		f->result = end == 0 ? -ENODATA : end; /* the stream ended first */|		f->result = end;|tcpstack_unit|TcpIo.ReadExact_PeerClosesFirst_ENODATA
rcv-autotune|tcpstack/tcp_output.c|	want = (uint32_t)RTE_MIN(4ull * got, (uint64_t)cfg->rcv_buf_max);|	want = (uint32_t)RTE_MIN(1ull * got, (uint64_t)cfg->rcv_buf_max);|tcpstack_unit|TcpAutotune.ReceiveBuffer_20msPath_GrowsFourTimesWhatArrivesPerRtt
snd-autotune|tcpstack/tcp_input.c|		c->snd_buf = RTE_MIN(2 * wnd, c->tcp->cfg.snd_buf_max);|		(void)0;|tcpstack_unit|TcpData.SendBuffer_Autotuned_TwiceCwnd
snd-autotune-window|tcpstack/tcp_input.c|	wnd = RTE_MIN(c->cwnd, c->max_wnd);|	wnd = c->cwnd;|tcpstack_unit|TcpData.SendBuffer_Autotuned_NotPastPeersWindow
sb-big-table|tcpstack/tcp_recovery.c|	if (c->sb_big != NULL)|	if (c->sb_big == NULL)|tcpstack_unit|TcpRecovery.Scoreboard_ManyHoles_BigTableFromThePool_GivenBack
tlp-follows-tail|tcpstack/tcp_output.c|			tcp_tlp_rearm(c);|			(void)0;|tcpstack_unit|TcpRecovery.Tlp_RearmedAsTheFlightGrows_ProbeBeforeTheRto
prr-end-ssthresh|tcpstack/tcp_input.c|				c->cwnd = c->ssthresh;|				c->cwnd = 2u * c->mss;|tcpstack_unit|TcpRecovery.Prr_RecoveryEnds_CwndIsSsthresh
cubic-beta|tcpstack/tcp_cc.c|	return RTE_MAX((uint32_t)(c->cwnd * CUBIC_BETA), 2u * c->mss);|	return RTE_MAX(c->cwnd / 2, 2u * c->mss);|tcpstack_unit|TcpRecovery.Cubic_Default_LossCutsToSevenTenths
cubic-fast-convergence|tcpstack/tcp_cc.c|		c->cc.w_max = w * (1.0 + CUBIC_BETA) / 2.0;|		c->cc.w_max = w;|tcpstack_unit|TcpRecovery.Cubic_FastConvergence
cubic-reno-friendly|tcpstack/tcp_cc.c|	if (w_cubic < c->cc.w_est) {|	if (w_cubic < 0) {|tcpstack_unit|TcpRecovery.Cubic_WindowFollowsTheCurve_RenoFriendlyFirst
slab-recycle|executor/ex_executor.c|		ex_slab_task_done(ex, slab_fut);|		(void)slab_fut;|executor_unit|SlabTest.CompletedTask_SlotBackAfterTheJoinHandleGotItsResult:SlabTest.Shutdown_DropsEveryTaskAndReturnsEverySlot
slab-zeroed|executor/ex_slab.c|	memset(slot, 0, s->slot_size);|	memset(slot, 0, 0);|executor_unit|SlabTest.FullSlab_RefusesUntilATaskEnds_ThenTheSlotIsReused
slab-spawned-once|executor/ex_slab.c|		s->state[i] = SLOT_TASK;|		s->state[i] = SLOT_HELD;|executor_unit|SlabTest.Misuse_Refused
host-closes-ports|tcpstack/stack_host.c|			dp_port_close(&h->ports[i]);|			(void)i;|tcpstack_unit|StackHostTest.NoAddress_RefusedByName_NothingLeftUp
host-unwinds-failure|tcpstack/stack_host.c|		host_unwind(h, NULL);|		(void)0;|tcpstack_unit|StackHostTest.NoAddress_RefusedByName_NothingLeftUp:StackHostTest.PrefixOver32_Refused
tcp-rss-port-pick|tcpstack/tcp_conn.c|				dp_rss_queue(rp, rip, lip, rport, p) != tcp->cfg.rss_queue)|				dp_rss_queue(rp, rip, lip, rport, p) != tcp->cfg.rss_queue && 0)|tcpstack_unit|TcpPorts.SteeringGroup_ActiveOpensPickPortsWhoseRepliesComeBack
steer-nic-table|dataplane/dp_steer.c|((hash % STEER_RETA) % n)|((hash % 64) % n)|dataplane_unit|SteerTest.Owner_SymmetricAndAsTheNicsDefaultTable
steer-follow-table|dataplane/dp_steer.c|	return view->reta[hash & (view->reta_size - 1u)];|	return (uint16_t)(hash % view->nb_queues);|dataplane_unit|SteerTest.FollowThePortsTable_OwnerByItsEntries_BadTablesRefused
steer-follow-check|dataplane/dp_steer.c|		if (port->reta[i] >= g->n)|		if (0)|dataplane_unit|SteerTest.FollowThePortsTable_OwnerByItsEntries_BadTablesRefused
host-sharer-quiet|tcpstack/stack_host.c|			scfg.arp_quiet = true;|			scfg.arp_quiet = false;|tcpstack_unit|StackHostTest.TwoLanes_SoftwareSteering_ArpOnceSynHandedOver_ActiveOpenComesBack
host-rss-queue|tcpstack/stack_host.c|		tcfg.rss_queue = h->queue;|		tcfg.rss_queue = 0;|tcpstack_unit|StackHostTest.TwoLanes_SoftwareSteering_ArpOnceSynHandedOver_ActiveOpenComesBack
host-steer-input|tcpstack/stack_host.c|	*in = &h->steer.inbox.base;|	(void)in;|tcpstack_unit|StackHostTest.TwoLanes_SoftwareSteering_ArpOnceSynHandedOver_ActiveOpenComesBack
linger-fin-wait|tcpstack/stack_host.c|return by[TCP_STATE_FIN_WAIT_1] + by[TCP_STATE_FIN_WAIT_2] +|return by[TCP_STATE_FIN_WAIT_2] +|tcpstack_unit|StackHostTest.Linger_RunsUntilTheCloseIsDoneAndTheWireQuiet
linger-quiet|tcpstack/stack_host.c|} else if (now - last >= quiet && host_closing(h) == 0) {|} else if (now - last >= quiet / 1000 && host_closing(h) == 0) {|tcpstack_unit|StackHostTest.Linger_RunsUntilTheCloseIsDoneAndTheWireQuiet
linger-at-shutdown|tcpstack/stack_host.c|	if (h->linger_ms != 0)|	if (0)|tcpstack_unit|StackHostTest.Linger_BoundedWhenThePeerIsSilent_SaidAtDown
host-queue-check|tcpstack/stack_host.c|				RTE_MIN(info.max_rx_queues, info.max_tx_queues) < pcfg.nb_queues)|				0)|tcpstack_unit|StackHostTest.MoreLanesThanTheQueuesOfThePort_RefusedSayingWhy
steer-fragments|dataplane/dp_steer.c|rte_cpu_to_be_16(IPV4_FRAG_BITS)|rte_cpu_to_be_16(0)|dataplane_unit|SteerTest.Owner_NoPortsMeansMemberZero
steer-own-inbox|dataplane/dp_steer.c|	dp_ring_stream_init(&s->inbox, ex, g->inbox[self]);|	dp_ring_stream_init(&s->inbox, ex, g->inbox[0]);|dataplane_unit|SteerTest.TwoMembers_EveryPacketToItsOwnerInOrder_CountersAdd
tcp-owner-check|tcpstack/tcp_priv.h|	if (unlikely(rte_lcore_id() != tcp->owner_lcore))|	if (0)|tcpstack_unit|TcpPorts.OwnerCheck_AnotherLcoreListening_Aborts
stack-arp-quiet|tcpstack/stack_arp.c|st->cfg.arp_quiet) {|0) {|tcpstack_unit|StackTest.ArpQuiet_LearnsFromARequest_NeitherAnswersNorAnnounces
steer-arp-copies|dataplane/dp_steer.c|	for (k = 1; k < s->n; k++) {|	for (k = s->n; k < s->n; k++) {|dataplane_unit|SteerTest.ArpFrames_Member0GetsTheFrame_EveryOtherACopy
tsq-new-data|tcpstack/tcp_output.c|		if (!stack_tx_room(tcp->st)) {|		if (0) {|tcpstack_unit|TcpData.SmallQueues_FullTxPathHoldsNewData_AcksStillGo_ResumesInOrder:StackHostTest.SmallQueues_ASlowTxQueueHoldsTcpBack_NothingDroppedOrResent
tsq-resend|tcpstack/tcp_output.c|		if (!stack_tx_room(c->tcp->st)) {|		if (0) {|tcpstack_unit|TcpData.SmallQueues_TimeoutsResendWaitsForRoomToo
tsq-unlist-reset|tcpstack/tcp_conn.c|	tcp_tsq_unlist(c); /* and sends nothing more */|	(void)0;|tcpstack_unit|TcpData.SmallQueues_WaitersResumeInOrder_AResetOneLeavesTheList
tsq-requeue-tail|tcpstack/tcp_output.c|	c->tsq_prev = tcp->tsq_tail;|	c->tsq_prev = 0;|tcpstack_unit|TcpData.SmallQueues_WaitersResumeInOrder_AResetOneLeavesTheList
tsq-pump-resumes|tcpstack/stack.c|	stack_tx_resume(t->st);|	(void)0;|tcpstack_unit|StackHostTest.SmallQueues_ASlowTxQueueHoldsTcpBack_NothingDroppedOrResent
ack-refusal-defers|tcpstack/tcp_output.c|		if (c->ack_epoch == st->tx_epoch + 1) {|		if (0) {|tcpstack_unit|TcpData.SmallQueues_OneAckPerRefusal_*
ack-refusal-first-goes|tcpstack/tcp_output.c|		if (c->ack_epoch == st->tx_epoch + 1) {|		if (1) {|tcpstack_unit|TcpData.SmallQueues_OneAckPerRefusal_*:TcpData.SmallQueues_FullTxPathHoldsNewData_AcksStillGo_ResumesInOrder
ack-refusal-resume-sends|tcpstack/tcp_output.c|		if ((c->flags & TCP_CONN_FLAG_ACK_DEFERRED) && c->state != TCP_STATE_CLOSED)|		if (0)|tcpstack_unit|TcpData.SmallQueues_OneAckPerRefusal_*
ack-refusal-carried|tcpstack/tcp_output.c|					TCP_CONN_FLAG_ACK_DEFERRED);|					0);|tcpstack_unit|TcpData.SmallQueues_OneAckPerRefusal_LaterOnesWaitAsOne
ack-refusal-epoch|tcpstack/stack.c|	st->tx_epoch++;|	(void)0;|tcpstack_unit|TcpData.SmallQueues_OneAckPerRefusal_LaterOnesWaitAsOne
tx-room-wake|dataplane/dp_stream.c|	if (k->room_waiting && k->n <= DP_TX_ROOM_LOW)|	if (k->room_waiting && k->n == 0)|dataplane_unit|DataplaneTest.TxRoom_NoWhileTheBacklogIsDeep_WokenWhenItDrains
tx-room-mark|dataplane/dp_stream.c|	if (likely(k->n < DP_TX_ROOM_HIGH))|	if (likely(k->n < DP_TX_BUF))|dataplane_unit|DataplaneTest.TxRoom_NoWhileTheBacklogIsDeep_WokenWhenItDrains
tap-steer-ports|dataplane/dp_tap_steer.c|BPF_REG_7, 0, SKF_LL_OFF + OFF_IP + 2)|BPF_REG_7, 0, SKF_LL_OFF + OFF_IP + 6)|dataplane_unit|SteerTest.TapProgram_TheKernelPutsEveryFrameOnItsOwnersQueue
tap-steer-frag|dataplane/dp_tap_steer.c|0x3fff); /* MF, offset */|0x1fff); /* MF, offset */|dataplane_unit|SteerTest.TapProgram_TheKernelPutsEveryFrameOnItsOwnersQueue
tap-steer-share|dataplane/dp_tap_steer.c|(uint16_t)(1u << k)) % TAP_STEER_RETA;|(uint16_t)(1u << k)) % 64;|dataplane_unit|SteerTest.TapProgram_TheKernelPutsEveryFrameOnItsOwnersQueue
tap-steer-ihl|dataplane/dp_tap_steer.c|BPF_REG_0, 0, 0, 2);|BPF_REG_0, 0, 0, 1);|dataplane_unit|SteerTest.TapProgram_TheKernelPutsEveryFrameOnItsOwnersQueue
serve-counts-refusal|tcpstack/tcp_serve.c|			s->refused++;|			(void)0;|tcpstack_unit|TcpServe.SessionPerConnection_FullSlabResets_EndedSessionFreesItsSlot:TcpServe.StartRefuses_ConnectionReset_SlotBack
serve-resets-refused|tcpstack/tcp_serve.c|			tcp_abort(c); /* refused with a RST */|			(void)c;|tcpstack_unit|TcpServe.StartRefuses_ConnectionReset_SlotBack
lb-maglev-weight|apps/l4proxy/lb.c|for (w = 0; w < lb->be[i].weight && filled < LB_MAGLEV_SIZE; w++) {|for (w = 0; w < 1 && filled < LB_MAGLEV_SIZE; w++) {|lb_unit|LbTest.Maglev_WeightsShareTheTable
lb-removed|apps/l4proxy/lb.c|	return b->up && !b->draining && !b->removed;|	return b->up && !b->draining;|lb_unit|LbTest.RemovedSkippedByEveryAlgorithm:LbTest.Maglev_AddedAtRunTime_TakesItsShareOnly_RemovedNeverPicked
pp-trust-any|apps/l4proxy/proxyproto.c|		if ((ip & t->mask[i]) == t->net[i])|		if ((ip & t->mask[i] & 0) == 0)|lb_unit|ProxyProto.TrustedSources
pp-tlv-bounds|apps/l4proxy/proxyproto.c|		if (len - off - 3 < tl)|		if (0)|lb_unit|ProxyProto.V2_LocalAndOtherFamilies_KeepTheConnectionsAddress_BadOnesRefused
pp-v1-spaces|apps/l4proxy/proxyproto.c|	if (strstr(buf, "  ") != NULL|	if (strstr(buf, "  ") == (char *)1|lb_unit|ProxyProto.V1_AnythingElseRefused
cluster-peer-loop|tcpstack/tcp_cluster.c|	if (tcp->cluster->from_peer(tcp->cluster_ctx, m)) {|	if (false) {|tcpstack_unit|TcpCluster.FromAPeer_UnknownFlow_DroppedWithoutResetNorLoop
cluster-own-id|tcpstack/tcp_cluster.c|owner == tcp->ts_tag)|owner == 255)|tcpstack_unit|TcpCluster.UnknownFlowNamingUsOrNoOne_Reset
cluster-ts-tag|tcpstack/tcp_timer.c|		ts = (ts & ~(uint32_t)TCP_CLUSTER_MAX)|		ts = (ts)|tcpstack_unit|TcpCluster.EveryTsvalCarriesTheId_AndNeverGoesBack
cluster-cookie-shift|tcpstack/tcp_listen.c|	enc = seg->opts.tsecr >> cookie_ts_shift(tcp);|	enc = seg->opts.tsecr;|tcpstack_unit|TcpCluster.SynCookie_IdAndOptionsBothInTheTsval
cluster-flood-off|tcpstack/tcp_cluster.c|	if (!seg->opts.has_ts)|	if (false)|tcpstack_unit|TcpCluster.NoTimestamps_UnknownFlowToAService_CopiedToEveryOtherInstance
cluster-flood-cookie|tcpstack/tcp_cluster.c|tcp_syncookie_ours(tcp, l, seg, lip, rip))|(tcp_syncookie_ours(tcp, l, seg, lip, rip) && false))|tcpstack_unit|TcpCluster.NoTimestamps_AckOfOurSynCookie_TakenHere
cluster-flood-budget|tcpstack/tcp_cluster.c|	tcp->flood_left--;|	tcp->flood_left += 0;|tcpstack_unit|TcpCluster.NoTimestamps_CopiesBoundedPerSecond
cluster-flood-own-ip|tcpstack/tcp_cluster.c|lip == tcp->st->cfg.ip|lip == 0|tcpstack_unit|TcpCluster.NoTimestamps_UnknownFlowToAService_CopiedToEveryOtherInstance
vip-not-on-subnet|tcpstack/stack.c|			(ip & mask) == (st->cfg.ip & mask))|			((ip & mask) == (st->cfg.ip & mask) && false))|tcpstack_unit|StackTest.Vip_PingAnsweredFromIt_ArpNeverAnswered_BadOnesRefused
lb-maglev-order|apps/l4proxy/lb.c|		for (j = i; j > 0 && backend_key(&lb->be[order[j - 1]]) > key; j--)|		for (j = i; j > 0 && key == 1; j--)|lb_unit|Lb.Maglev_SameBackendsAnyOrder_IdenticalTables
tlp-one-probe|tcpstack/tcp_timer.c|c->tlp_sent < TCP_TLP_MAX|c->tlp_sent < 1|tcpstack_unit|TcpRecovery.Tlp_InRecovery_WhenTheAcksStop_ProbesTheHoleAgainAtTwiceThePto:TcpRecovery.Tlp_ProbeUnanswered_TheHeadNext_ThenTheRto
tlp-probe-tail-always|tcpstack/tcp_timer.c|c->tlp_sent > 1)|c->tlp_sent > 99)|tcpstack_unit|TcpRecovery.Tlp_ProbeUnanswered_TheHeadNext_ThenTheRto
tlp-pto-not-doubled|tcpstack/tcp_timer.c|TCP_PTO_MIN_NS) << c->tlp_sent;|TCP_PTO_MIN_NS);|tcpstack_unit|TcpRecovery.Tlp_InRecovery_WhenTheAcksStop_ProbesTheHoleAgainAtTwiceThePto:TcpRecovery.Tlp_ProbeUnanswered_TheHeadNext_ThenTheRto
tlp-probe-tail-in-recovery|tcpstack/tcp_timer.c|	if ((c->flags & TCP_CONN_FLAG_RECOVERY)|	if ((c->flags & 0)|tcpstack_unit|TcpRecovery.Tlp_InRecovery_WhenTheAcksStop_ProbesTheHoleAgainAtTwiceThePto
tlp-pto-no-floor|tcpstack/tcp_timer.c|RTE_MAX(2ull * c->srtt_us * 1000, TCP_PTO_MIN_NS)|(2ull * c->srtt_us * 1000)|tcpstack_unit|TcpRecovery.Tlp_TinySrtt_ProbeWaitsTheFloor
host-mtu-stack|tcpstack/stack_host.c|		scfg.mtu = cfg->mtu;|		(void)0;|tcpstack_unit|StackHostTest.Mtu9000_AnMbufHoldsAFrame_TcpOffersTheMss
host-mtu-pool|tcpstack/stack_host.c|cfg->pool_cache, host_data_room(cfg->mtu),|cfg->pool_cache, host_data_room(0),|tcpstack_unit|StackHostTest.Mtu9000_AnMbufHoldsAFrame_TcpOffersTheMss
memif-mtu-any-bsize|dataplane/dp_port.c|	if (bsize >= frame)|	if (bsize > 0)|dataplane_unit|DpPortMtu.Memif_JumboTakenOnlyWhereABufferHoldsAFrame
drs-rtt-floor|tcpstack/tcp_output.c|c->rcv_rtt_us < TCP_DRS_RTT_MIN_US|c->rcv_rtt_us < 1|tcpstack_unit|TcpAutotune.ReceiveBuffer_SubMillisecondPath_NotGrown
rcv-rtt-each-tsecr|tcpstack/tcp_output.c|seg->opts.tsecr == c->rcv_rtt_tsecr|seg->opts.tsecr == 0xdeadbeef|tcpstack_unit|TcpAutotune.ReceiverRtt_FromTheFirstSegmentEchoingEachTsval
rcv-rtt-full-sized|tcpstack/tcp_output.c|seg->len < c->rcv_mss|seg->len < 1|tcpstack_unit|TcpAutotune.ReceiverRtt_FromTheFirstSegmentEchoingEachTsval
rcv-rtt-smoothed|tcpstack/tcp_output.c|c->rcv_rtt_us - c->rcv_rtt_us / 8 + us / 8|us|tcpstack_unit|TcpAutotune.ReceiverRtt_FromTheFirstSegmentEchoingEachTsval
wnd-update-on-new-ack|tcpstack/tcp_input.c|(tcp_seq_gt(ack, prior_una)|(false|tcpstack_unit|TcpData.HoleFilledByAnAckingSegment_ItsWindowTaken_NothingSentPastIt
ack-seq-in-peer-window|tcpstack/tcp_output.c|	return edge;|	return c->snd_max;|tcpstack_unit|TcpData.PeerShrankItsWindow_AcksAndResetCarryItsRightEdge
xdp-pool-padded|dataplane/dp_port.c|cache, sizeof(priv), socket, RTE_MEMPOOL_F_NO_IOVA_CONTIG);|cache, sizeof(priv), socket, 0);|dataplane_unit|DpPool.AfXdpUmem_EveryFrameInsideWhatThePmdRegisters
drs-counts-taken|tcpstack/tcp_output.c|taken = c->rcv_nxt - c->rcvq_bytes;|taken = c->rcv_nxt;|tcpstack_unit|TcpAutotune.ReceiveBuffer_ApplicationNotReading_NotGrown
tso-whole-mss|tcpstack/tcp_output.c|			len -= len % c->mss;|			(void)0;|tcpstack_unit|TcpData.Tso_NewDataInWholeMsses_TailShort_RetransmissionOneMss
tso-segsz|tcpstack/tcp_output.c|len > c->mss ? c->mss : 0);|0);|tcpstack_unit|TcpData.Tso_NewDataInWholeMsses_TailShort_RetransmissionOneMss
tso-config|tcpstack/tcp_conn.c|return cfg->tso && (tx_offloads|return (cfg->tso + 1) && (tx_offloads|tcpstack_unit|TcpData.Tso_OnlyWhereThePortCutsAndTheConfigAllows
tx-keep-refused|dataplane/dp_stream.c|else if (now - k->refused_ns >= DP_TX_RETRY_NS) {|else {|dataplane_unit|DataplaneTest.TxRefused_KeptInOrderAndSentWhenTheQueueHasRoom
tx-retry-bound|dataplane/dp_stream.c|else if (now - k->refused_ns >= DP_TX_RETRY_NS) {|else if (0) {|dataplane_unit|DataplaneTest.TxRefused_StuckQueueDroppedAfterTheBound_FullSinkDropsNewest
tx-refused-naps|dataplane/dp_stream.c|now + RTE_MIN((now - k->refused_ns) / 4, DP_TX_NAP_MAX_NS));|now + 0);|dataplane_unit|DataplaneTest.TxRefused_LongPause_LoopSleepsBetweenOffers_SendsWhenRoom
tx-nap-young|dataplane/dp_stream.c|RTE_MIN((now - k->refused_ns) / 4, DP_TX_NAP_MAX_NS)|RTE_MIN(DP_TX_NAP_MAX_NS, DP_TX_NAP_MAX_NS)|dataplane_unit|DataplaneTest.TxRefused_LongPause_LoopSleepsBetweenOffers_SendsWhenRoom
tx-nap-cap|dataplane/dp_stream.c|(now - k->refused_ns) / 4, DP_TX_NAP_MAX_NS)|(now - k->refused_ns) / 4, UINT64_MAX)|dataplane_unit|DataplaneTest.TxRefused_LongPause_LoopSleepsBetweenOffers_SendsWhenRoom
idle-coalesce-counts|executor/ex_idle.c|	if (n > 0 && ex->idle_coalesce_ns != 0)|	if (0)|executor_unit|IdleCoalesce.NapsOnlyOnceWakeUpsKeepComing_UntilANapFindsNothing
idle-coalesce-events-only|executor/ex_idle.c|	if (n > 0 && ex->idle_coalesce_ns != 0)|	if (ex->idle_coalesce_ns != 0)|executor_unit|IdleCoalesce.NapsOnlyOnceWakeUpsKeepComing_UntilANapFindsNothing
idle-coalesce-quiet-resets|executor/ex_idle.c|		ex->coalesce_streak = 0; /* a quiet one: count afresh */|		;|executor_unit|IdleCoalesce.NapsOnlyOnceWakeUpsKeepComing_UntilANapFindsNothing
idle-coalesce-quiet-mark|executor/ex_idle.c|	if (ex_now_ns(ex) - ex->last_work_ns >= EX_COALESCE_QUIET_NS)|	if (ex_now_ns(ex) - ex->last_work_ns > EX_COALESCE_QUIET_NS)|executor_unit|IdleCoalesce.NapsOnlyOnceWakeUpsKeepComing_UntilANapFindsNothing
idle-coalesce-after|executor/ex_idle.c|	if (ex->coalesce_streak < ex->idle_coalesce_after)|	if (ex->coalesce_streak < 1)|executor_unit|IdleCoalesce.NapsOnlyOnceWakeUpsKeepComing_UntilANapFindsNothing
idle-coalesce-empty-nap-ends|executor/ex_idle.c|		ex->coalesce_streak = 0; /* the load is over */|		;|executor_unit|IdleCoalesce.NapsOnlyOnceWakeUpsKeepComing_UntilANapFindsNothing
idle-coalesce-work-keeps-napping|executor/ex_executor.c|		ex->coalesce_napped = 0;|		;|executor_unit|IdleCoalesce.NapsOnlyOnceWakeUpsKeepComing_UntilANapFindsNothing
idle-coalesce-nap-timer|executor/ex_idle.c|	ns = ex_wheel_next_ns(&ex->wheel, now, RTE_MIN(ex->idle_coalesce_ns, cap));|	ns = ex_wheel_next_ns(&ex->wheel, now, UINT64_MAX) ? ex->idle_coalesce_ns : RTE_MIN(ex->idle_coalesce_ns, cap);|executor_unit|IdleCoalesce.ANapEndsAtTheNextTimer
TABLE
)
# A self-test gives its own table (tests/integration/test_harness.py).
[ -n "${RIPTIDE_MUTATIONS:-}" ] && MUTATIONS=$RIPTIDE_MUTATIONS

if [ "$list" = 1 ]; then
	echo "$MUTATIONS" | cut -d'|' -f1,2,6
	exit 0
fi

restore() {
	[ -n "${saved:-}" ] && [ -f "$saved" ] && cp "$saved" "$target" && rm -f "$saved"
	saved=
}
trap restore EXIT INT TERM

# The copy: every file git knows or would add (tracked, and untracked but not
# ignored), written only where its content differs, so that ninja rebuilds
# only what changed since the last run (and what the last mutation touched).
src=$build.src
git ls-files -z --cached --others --exclude-standard | /usr/bin/python3 -c '
import filecmp, os, shutil, sys
dst = sys.argv[1]
for p in sys.stdin.buffer.read().decode().split("\0"):
    if not p or not os.path.isfile(p):
        continue  # a deleted file git still lists, or a submodule
    q = os.path.join(dst, p)
    if os.path.isfile(q) and filecmp.cmp(p, q, shallow=False):
        continue
    os.makedirs(os.path.dirname(q) or ".", exist_ok=True)
    shutil.copyfile(p, q)  # mtime now: ninja must see it as new
    shutil.copymode(p, q)' "$src" ||
	{ echo "mutate: copying the tree (the files git lists) to $src failed"; echo "0 passed, 1 failed"; exit 1; }
src=$(cd "$src" && pwd)
# A build directory set up by an older mutate.sh builds the tree itself.
if [ -f "$build/build.ninja" ] && [ "$(/usr/bin/python3 -c 'import json, sys
print(json.load(open(sys.argv[1]))["directories"]["source"])' "$build/meson-info/meson-info.json" 2>/dev/null)" != "$src" ]; then
	rm -rf "$build"
fi
if [ ! -f "$build/build.ninja" ]; then
	meson setup "$build" "$src" --buildtype=debug >/dev/null || { echo "0 passed, 1 failed"; exit 1; }
fi
ninja -C "$build" tests/unit/tcpstack_unit tests/unit/dataplane_unit tests/unit/executor_unit >/dev/null ||
	{ echo "mutate: the unmutated tree does not build"; echo "0 passed, 1 failed"; exit 1; }

caught=0
survived=0
cases=()
verdict() { # id, "" if caught or the reason it survived
	cases+=("$1|$2")
}
# The unmutated binaries pass the named tests (else a catch means nothing):
# one run per binary with every filter of its mutations. A binary that fails
# there has each of its mutations' filters checked alone below, to say which.
declare -A clean
binaries=$(echo "$MUTATIONS" | awk -F'|' 'NF >= 6 { print $5 }' | sort -u)
ninja -C "$build" $(printf 'tests/unit/%s ' $binaries) >/dev/null 2>&1
for b in $binaries; do
	filters=$(echo "$MUTATIONS" | awk -F'|' -v b="$b" '$5 == b { print $6 }' | paste -sd:)
	"$build/tests/unit/$b" --gtest_filter="$filters" >/dev/null 2>&1 && clean[$b]=1
done
while IFS='|' read -r id file find replace binary filter; do
	[ -n "$id" ] || continue
	# The text must be there exactly once, or the table is stale.
	n=$(grep -cF -- "$find" "$src/$file")
	if [ "$n" != 1 ]; then
		echo "FAILED: mutation $id: '$find' found $n times in $file (stale table)"
		verdict "$id" "stale table: the text is in $file $n times"
		survived=$((survived + 1))
		continue
	fi
	# Where the binary's clean run failed: is it this mutation's filter?
	# (Rebuilt first: the last mutation's binary may still be there.)
	if [ -z "${clean[$binary]:-}" ] && { ! ninja -C "$build" "tests/unit/$binary" >/dev/null 2>&1 ||
			! "$build/tests/unit/$binary" --gtest_filter="$filter" >/dev/null 2>&1; }; then
		echo "FAILED: mutation $id: $filter fails without the mutation"
		verdict "$id" "$filter fails without the mutation"
		survived=$((survived + 1))
		continue
	fi
	target=$src/$file
	saved=$(mktemp)
	cp "$target" "$saved"
	FIND=$find REPL=$replace /usr/bin/python3 -c '
import os, sys
p = sys.argv[1]
s = open(p).read()
open(p, "w").write(s.replace(os.environ["FIND"], os.environ["REPL"], 1))' "$target"
	# One build: the mutated file and the one the last mutation restored.
	if ! ninja -C "$build" "tests/unit/$binary" >/dev/null 2>&1; then
		echo "mutation $id: does not compile (counted as caught)"
		verdict "$id" ""
		caught=$((caught + 1))
	elif "$build/tests/unit/$binary" --gtest_filter="$filter" >/dev/null 2>&1; then
		echo "FAILED: mutation $id survived: $file: '$find' -> '$replace'; $filter still pass"
		verdict "$id" "survived: $file: $find -> $replace; $filter still pass"
		survived=$((survived + 1))
	else
		echo "mutation $id: caught by $filter"
		verdict "$id" ""
		caught=$((caught + 1))
	fi
	restore
done <<<"$MUTATIONS"
ninja -C "$build" tests/unit/tcpstack_unit tests/unit/dataplane_unit >/dev/null 2>&1
if [ -n "$junit" ]; then
	printf '%s\n' "${cases[@]}" | /usr/bin/python3 -c '
import sys
from xml.sax.saxutils import escape, quoteattr
rows = [l.rstrip("\n").split("|", 1) for l in sys.stdin if l.strip()]
with open(sys.argv[1], "w") as f:
    f.write("<testsuite name=\"mutations\">\n")
    for ident, why in rows:
        f.write(f"<testcase classname=\"mutation\" name={quoteattr(ident)}>")
        if why:
            f.write(f"<failure message={quoteattr(why)}>{escape(why)}</failure>")
        f.write("</testcase>\n")
    f.write("</testsuite>\n")' "$junit"
fi
echo "$caught passed, $survived failed"
[ "$survived" = 0 ]
