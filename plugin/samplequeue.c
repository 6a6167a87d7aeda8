/* Hand-off of appsink samples from GStreamer streaming threads to one Go
 * goroutine (samplequeue.go), without a call from C into Go or from Go into
 * C per frame.
 *
 * Why: a streaming thread that calls into Go wakes the Go runtime's monitor
 * thread (sysmon) and leaves the runtime's only P in the syscall state when
 * it returns to C; sysmon then polls every 20 µs until it has taken the P
 * back and started another thread to watch the network. A Go → C call wakes
 * sysmon as well. Per frame that was about ten context switches, a sixth of
 * the process' CPU (tests/bench/README.md, "CPU").
 *
 * How: a ring of slots in C memory. Producers (streaming threads, serialised
 * by a mutex) fill the slot at head and publish it by advancing head; the Go
 * consumer reads slots from C memory directly, sends them and advances tail.
 * Producers release the samples of the slots Go has finished (between
 * reclaimed and tail) the next time they push or sync, on their own thread.
 * The consumer sleeps on an eventfd that a producer writes only when the
 * consumer said it is going to sleep; a producer waiting for Go (ring full,
 * or a serialized event that must not overtake earlier frames) sleeps on a
 * second eventfd that Go writes while someone waits. */
#include "lk.h"
#include <poll.h>
#include <sys/eventfd.h>
#include <unistd.h>

LkSampleRing lk_ring;

static GMutex lk_ring_lock;     /* producers */
static guint32 lk_reclaimed;    /* under lk_ring_lock */
static gboolean lk_ring_on;

int
lk_sample_queue_start (void)
{
  lk_ring.wake_fd = eventfd (0, EFD_NONBLOCK | EFD_CLOEXEC);
  if (lk_ring.wake_fd < 0)
    return -1;
  lk_ring.done_fd = eventfd (0, EFD_NONBLOCK | EFD_CLOEXEC);
  if (lk_ring.done_fd < 0) {
    close (lk_ring.wake_fd);
    lk_ring.wake_fd = -1;
    return -1;
  }
  __atomic_store_n (&lk_ring_on, TRUE, __ATOMIC_SEQ_CST);
  return lk_ring.wake_fd;
}

gboolean
lk_sample_queue_active (void)
{
  return __atomic_load_n (&lk_ring_on, __ATOMIC_SEQ_CST);
}

/* Releases the samples of the slots the consumer has finished. */
static void
reclaim_locked (void)
{
  guint32 tail = __atomic_load_n (&lk_ring.tail, __ATOMIC_ACQUIRE);

  while (lk_reclaimed != tail) {
    LkSampleSlot *s = &lk_ring.slots[lk_reclaimed % LK_RING_SLOTS];
    gst_buffer_unmap (gst_sample_get_buffer (s->sample), &s->map);
    gst_sample_unref (s->sample);
    gst_object_unref (s->sink);
    s->sample = NULL;
    s->sink = NULL;
    lk_reclaimed++;
  }
}

/* Sleeps until the consumer has finished a slot (or 10 ms: a missed signal
 * costs a delay, never a hang). */
static void
wait_progress (void)
{
  struct pollfd p = { lk_ring.done_fd, POLLIN, 0 };
  guint64 n;

  __atomic_add_fetch (&lk_ring.waiters, 1, __ATOMIC_SEQ_CST);
  if (__atomic_load_n (&lk_ring.tail, __ATOMIC_SEQ_CST) !=
      __atomic_load_n (&lk_ring.head, __ATOMIC_SEQ_CST)) {
    if (poll (&p, 1, 10) > 0 && read (lk_ring.done_fd, &n, sizeof n) < 0) {
      /* EAGAIN: another waiter took the signal */
    }
  }
  __atomic_sub_fetch (&lk_ring.waiters, 1, __ATOMIC_SEQ_CST);
}

static void
wake_consumer (void)
{
  guint64 one = 1;

  if (__atomic_exchange_n (&lk_ring.sleeping, 0, __ATOMIC_SEQ_CST) &&
      write (lk_ring.wake_fd, &one, sizeof one) < 0) {
    /* EAGAIN: the counter is full, so the consumer is signalled anyway */
  }
}

/* Takes the sample (mapped) and a ref on sink. */
void
lk_sample_queue_push (uintptr_t handle, GstElement * sink, GstSample * sample,
    GstMapInfo * map, gint64 rt, int header, int key)
{
  LkSampleSlot *s;
  guint32 head;

  g_mutex_lock (&lk_ring_lock);
  reclaim_locked ();
  head = lk_ring.head;
  while (head - lk_reclaimed >= LK_RING_SLOTS) {
    wait_progress ();
    reclaim_locked ();
  }
  s = &lk_ring.slots[head % LK_RING_SLOTS];
  s->handle = handle;
  s->sink = gst_object_ref (sink);
  s->sample = sample;
  s->map = *map;
  s->pts = rt;
  s->header = header;
  s->key = key;
  __atomic_store_n (&lk_ring.head, head + 1, __ATOMIC_SEQ_CST);
  g_mutex_unlock (&lk_ring_lock);
  wake_consumer ();
}

/* Waits until the consumer has sent every queued sample, then releases
 * them: a serialized event (EOS, new caps, a new segment) must not overtake
 * the frames before it, and a pad going away must not leave its samples
 * (and its appsink) held. */
void
lk_sample_queue_sync (void)
{
  if (!lk_sample_queue_active ())
    return;
  g_mutex_lock (&lk_ring_lock);
  while (__atomic_load_n (&lk_ring.tail, __ATOMIC_SEQ_CST) != lk_ring.head)
    wait_progress ();
  reclaim_locked ();
  g_mutex_unlock (&lk_ring_lock);
}
