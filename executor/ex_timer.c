/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * ex_timer.c - the hierarchical timing wheel and the sleep future.
 *
 * Called by the owning lcore only: futures arm and cancel, the executor's
 * loop advances (step 4 of the loop).
 */
#include <errno.h>
#include <string.h>

#include "ex_priv.h"
#include "ex_timer.h"

#define SLOT_MASK (EX_WHEEL_SLOTS - 1)
#define LEVEL_SPAN(l) (UINT64_C(1) << (EX_WHEEL_SLOT_BITS * ((l) + 1)))
#define MAX_DELTA (LEVEL_SPAN(EX_WHEEL_LEVELS - 1) - 1)

static inline void
tlist_init(struct ex_tlink *h)
{
	h->next = h->prev = h;
}

static inline int
tlist_empty(const struct ex_tlink *h)
{
	return h->next == h;
}

static inline void
tlist_add_tail(struct ex_tlink *h, struct ex_tlink *l)
{
	l->prev = h->prev;
	l->next = h;
	h->prev->next = l;
	h->prev = l;
}

static inline void
tlist_del(struct ex_tlink *l)
{
	l->prev->next = l->next;
	l->next->prev = l->prev;
	l->next = l->prev = NULL;
}

/* Move every entry of src onto the (empty) list dst. */
static inline void
tlist_splice(struct ex_tlink *src, struct ex_tlink *dst)
{
	if (tlist_empty(src)) {
		tlist_init(dst);
		return;
	}
	dst->next = src->next;
	dst->prev = src->prev;
	dst->next->prev = dst;
	dst->prev->next = dst;
	tlist_init(src);
}

static inline void
bit_set(uint64_t *bm, unsigned int i)
{
	bm[i >> 6] |= UINT64_C(1) << (i & 63);
}

static inline void
bit_clear(uint64_t *bm, unsigned int i)
{
	bm[i >> 6] &= ~(UINT64_C(1) << (i & 63));
}

/* First set bit in [from, to] of a 256-bit map, or -1. */
static inline int
bit_find(const uint64_t *bm, unsigned int from, unsigned int to)
{
	unsigned int w = from >> 6;
	uint64_t word = bm[w] & (~UINT64_C(0) << (from & 63));

	for (;;) {
		if (word != 0) {
			unsigned int i = (w << 6) + (unsigned int)__builtin_ctzll(word);

			return i <= to ? (int)i : -1;
		}
		if (++w > (to >> 6))
			return -1;
		word = bm[w];
	}
}

static bool
bitmap_empty(const uint64_t *bm)
{
	unsigned int i;

	for (i = 0; i < EX_WHEEL_SLOTS / 64; i++)
		if (bm[i] != 0)
			return false;
	return true;
}

int
ex_wheel_init(struct ex_wheel *w, unsigned int tick_shift, uint64_t now_ns)
{
	unsigned int l, i;

	if (tick_shift > 20)
		return -EINVAL;
	memset(w, 0, sizeof(*w));
	w->shift = tick_shift;
	w->now = now_ns >> tick_shift;
	for (l = 0; l < EX_WHEEL_LEVELS; l++)
		for (i = 0; i < EX_WHEEL_SLOTS; i++)
			tlist_init(&w->slot[l][i]);
	return 0;
}

/* Link t into the slot its deadline falls in, relative to the wheel's now. */
static void
wheel_link(struct ex_wheel *w, struct ex_timer *t)
{
	uint64_t expires = t->expires;
	uint64_t delta;
	unsigned int level, idx;

	/* Already due: the next tick processed fires it. */
	if ((int64_t)(expires - w->now) < 0)
		expires = w->now;
	delta = expires - w->now;
	if (delta > MAX_DELTA)
		expires = w->now + MAX_DELTA; /* parked; re-placed on cascade */
	for (level = 0; level < EX_WHEEL_LEVELS - 1; level++)
		if (delta < LEVEL_SPAN(level))
			break;
	idx = (unsigned int)(expires >> (EX_WHEEL_SLOT_BITS * level)) & SLOT_MASK;
	tlist_add_tail(&w->slot[level][idx], &t->link);
	bit_set(w->bitmap[level], idx);
	t->slot = (uint16_t)(level * EX_WHEEL_SLOTS + idx);
}

static void
wheel_unlink(struct ex_wheel *w, struct ex_timer *t)
{
	unsigned int level = t->slot / EX_WHEEL_SLOTS, idx = t->slot & SLOT_MASK;
	struct ex_tlink *head = &w->slot[level][idx];

	tlist_del(&t->link);
	if (tlist_empty(head))
		bit_clear(w->bitmap[level], idx);
}

void
ex_timer_arm(struct ex_wheel *w, struct ex_timer *t, uint64_t deadline_ns,
		const struct ex_waker *waker)
{
	uint64_t round = (UINT64_C(1) << w->shift) - 1;

	if (t->flags & EX_TIMER_FLAG_ARMED)
		wheel_unlink(w, t);
	else
		w->armed++;
	t->expires = (deadline_ns > UINT64_MAX - round ? UINT64_MAX : deadline_ns + round) >>
		     w->shift;
	if (!(t->flags & EX_TIMER_FLAG_CALLBACK)) {
		t->task = waker != NULL ? waker->task : NULL;
		t->gen = waker != NULL ? waker->gen : 0;
	}
	t->flags = (uint16_t)((t->flags & EX_TIMER_FLAG_CALLBACK) | EX_TIMER_FLAG_ARMED);
	wheel_link(w, t);
	__atomic_store_n(&w->arms, w->arms + 1, __ATOMIC_RELAXED);
}

void
ex_timer_cancel(struct ex_wheel *w, struct ex_timer *t)
{
	if (!(t->flags & EX_TIMER_FLAG_ARMED))
		return;
	wheel_unlink(w, t);
	t->flags &= (uint16_t)~EX_TIMER_FLAG_ARMED;
	w->armed--;
}

/* Re-place every timer of one slot of a higher level; returns idx. */
static unsigned int
cascade(struct ex_wheel *w, unsigned int level, unsigned int idx)
{
	struct ex_tlink list;

	tlist_splice(&w->slot[level][idx], &list);
	bit_clear(w->bitmap[level], idx);
	while (!tlist_empty(&list)) {
		struct ex_timer *t = EX_CONTAINER_OF(list.next, struct ex_timer, link);

		tlist_del(&t->link);
		wheel_link(w, t);
	}
	return idx;
}

static void
timer_fire(struct ex_wheel *w, struct ex_timer *t)
{
	t->flags = (uint16_t)((t->flags & ~EX_TIMER_FLAG_ARMED) | EX_TIMER_FLAG_FIRED);
	w->armed--;
	__atomic_store_n(&w->fired, w->fired + 1, __ATOMIC_RELAXED);
	if (t->flags & EX_TIMER_FLAG_CALLBACK) {
		t->fn(t);
	} else {
		struct ex_waker wk = { t->task, t->gen };

		ex_waker_wake(&wk);
	}
}

/*
 * Fire level-0 slot idx. The wheel's now is already past it, so a callback
 * that re-arms for "now" lands in the next tick, not back in this list. The
 * slot is detached first; a callback may cancel a timer still on the
 * detached list (it is still linked, so unlinking works).
 */
static unsigned int
fire_slot(struct ex_wheel *w, unsigned int idx)
{
	struct ex_tlink list;
	unsigned int n = 0;

	tlist_splice(&w->slot[0][idx], &list);
	bit_clear(w->bitmap[0], idx);
	while (!tlist_empty(&list)) {
		struct ex_timer *t = EX_CONTAINER_OF(list.next, struct ex_timer, link);

		tlist_del(&t->link);
		timer_fire(w, t);
		n++;
	}
	return n;
}

unsigned int
ex_wheel_advance(struct ex_wheel *w, uint64_t now_ns)
{
	uint64_t target = now_ns >> w->shift;
	unsigned int fired = 0;

	while (w->now <= target) {
		unsigned int idx = (unsigned int)w->now & SLOT_MASK;
		unsigned int last;
		int j;

		if (w->armed == 0) {
			w->now = target + 1;
			break;
		}
		/* Level 0 wrapped: bring the next level's current slot down. */
		if (idx == 0 && cascade(w, 1, (unsigned int)(w->now >> 8) & SLOT_MASK) == 0 &&
				cascade(w, 2, (unsigned int)(w->now >> 16) & SLOT_MASK) == 0)
			cascade(w, 3, (unsigned int)(w->now >> 24) & SLOT_MASK);
		/* A turn that starts with level 0 empty: every turn up to the
		 * next one with level-1 timers (or to level 1's wrap) would
		 * only cascade an empty slot, so jump there. A clock that
		 * leaps seconds ahead costs a few steps, not one per turn. */
		if (idx == 0 && bitmap_empty(w->bitmap[0])) {
			int j1 = (unsigned int)(w->now >> 8 & SLOT_MASK) == SLOT_MASK
						 ? -1
						 : bit_find(w->bitmap[1],
								   (unsigned int)(w->now >> 8 &
										   SLOT_MASK) +
										   1,
								   SLOT_MASK);
			uint64_t next = j1 < 0 ? ((w->now >> 16) + 1) << 16
					       : (w->now & ~UINT64_C(0xffff)) | (uint64_t)j1 << 8;

			w->now = RTE_MIN(next, target + 1);
			continue;
		}
		/* Skip empty slots, never past the end of this level-0 turn
		 * (the next cascade) or past target. */
		last = idx + (unsigned int)RTE_MIN((uint64_t)(SLOT_MASK - idx), target - w->now);
		j = bit_find(w->bitmap[0], idx, last);
		if (j < 0) {
			w->now += last - idx + 1;
			continue;
		}
		w->now += (unsigned int)j - idx + 1;
		fired += fire_slot(w, (unsigned int)j);
	}
	return fired;
}

void
ex_wheel_clear(struct ex_wheel *w)
{
	unsigned int l, i;

	for (l = 0; l < EX_WHEEL_LEVELS; l++) {
		for (i = 0; i < EX_WHEEL_SLOTS; i++) {
			struct ex_tlink *h = &w->slot[l][i];

			while (!tlist_empty(h)) {
				struct ex_timer *t =
						EX_CONTAINER_OF(h->next, struct ex_timer, link);

				tlist_del(&t->link);
				t->flags &= (uint16_t)~EX_TIMER_FLAG_ARMED;
			}
		}
		memset(w->bitmap[l], 0, sizeof(w->bitmap[l]));
	}
	w->armed = 0;
}

/* Circular distance from slot `from` to the next slot with timers at one
 * level (0 if `from` has some), or -1 if the level is empty. */
static int
bit_next_circular(const uint64_t *bm, unsigned int from)
{
	int j = bit_find(bm, from, SLOT_MASK);

	if (j >= 0)
		return j - (int)from;
	if (from == 0 || (j = bit_find(bm, 0, from - 1)) < 0)
		return -1;
	return EX_WHEEL_SLOTS - (int)from + j;
}

/*
 * A lower bound of the earliest deadline, level by level, so that an idle
 * loop may sleep until then and no later. Level 0: the next slot with timers
 * (a slot before now's belongs to the next turn). Level l > 0: its slot for
 * the current block was cascaded down when the block began, so its timers
 * sit in later slots; one d slots on expires no earlier than the start of
 * that block. The slot lists are never walked: bitmaps only.
 */
uint64_t
ex_wheel_next_ns(const struct ex_wheel *w, uint64_t now_ns, uint64_t max_ns)
{
	uint64_t next = UINT64_MAX, tick_ns;
	unsigned int l;

	if (w->armed == 0)
		return max_ns;
	for (l = 0; l < EX_WHEEL_LEVELS; l++) {
		unsigned int shift = EX_WHEEL_SLOT_BITS * l;
		unsigned int cur = (unsigned int)(w->now >> shift) & SLOT_MASK;
		int d = bit_next_circular(w->bitmap[l], l == 0 ? cur : (cur + 1) & SLOT_MASK);
		uint64_t tick;

		if (d < 0)
			continue;
		tick = l == 0 ? w->now + (uint64_t)d
			      : ((w->now >> shift) + 1 + (uint64_t)d) << shift;
		next = RTE_MIN(next, tick);
	}
	if (next == UINT64_MAX)
		return max_ns;
	tick_ns = next << w->shift;
	if (tick_ns <= now_ns)
		return 0;
	return RTE_MIN(tick_ns - now_ns, max_ns);
}

/* ---- the sleep future ---- */

static enum ex_poll
sleep_poll(struct ex_future *f, struct ex_context *cx)
{
	struct ex_sleep *s = EX_CONTAINER_OF(f, struct ex_sleep, base);
	struct ex_executor *ex = ex_context_executor(cx);

	if (ex == NULL)
		ex = ex_current();
	if (ex == NULL) {
		/* Polled outside any executor: there is no clock to wait on. */
		f->result = -ENODEV;
		return EX_READY;
	}
	if (f->status == EX_FUTURE_STATUS_NEW && !s->absolute)
		s->deadline_ns = ex_now_ns(ex) + s->duration_ns;
	if (s->timer.flags & EX_TIMER_FLAG_FIRED)
		return EX_READY;
	if (ex_now_ns(ex) >= s->deadline_ns) {
		ex_timer_cancel(&ex->wheel, &s->timer);
		return EX_READY;
	}
	if (!ex_timer_armed(&s->timer) || s->timer.task != cx->waker.task ||
			s->timer.gen != cx->waker.gen) {
		s->wheel = &ex->wheel;
		ex_timer_arm(&ex->wheel, &s->timer, s->deadline_ns, &cx->waker);
	}
	return EX_PENDING;
}

static void
sleep_drop(struct ex_future *f)
{
	struct ex_sleep *s = EX_CONTAINER_OF(f, struct ex_sleep, base);

	if (s->wheel != NULL)
		ex_timer_cancel(s->wheel, &s->timer);
}

static const struct ex_future_ops sleep_ops = {
	.poll = sleep_poll,
	.drop = sleep_drop,
	.name = "sleep",
};

void
ex_sleep_init(struct ex_sleep *s, uint64_t duration_ns)
{
	ex_future_init(&s->base, &sleep_ops);
	ex_timer_init_waker(&s->timer);
	s->wheel = NULL;
	s->duration_ns = duration_ns;
	s->deadline_ns = 0;
	s->absolute = 0;
}

void
ex_sleep_until_init(struct ex_sleep *s, uint64_t deadline_ns)
{
	ex_sleep_init(s, 0);
	s->deadline_ns = deadline_ns;
	s->absolute = 1;
}
