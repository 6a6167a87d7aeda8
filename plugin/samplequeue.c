/* Hand-off of appsink samples from GStreamer streaming threads to one Go
 * goroutine (samplequeue.go). A streaming thread that calls into Go leaves
 * the Go runtime's P in the syscall state when it returns to C, and the
 * runtime's monitor thread then has to take it back after every frame,
 * waking itself every 20 µs for a while each time (tests/bench/README.md,
 * "CPU"). Here the streaming thread only queues the sample and signals an
 * eventfd; the Go side waits for that fd in its netpoller and pulls the
 * samples with short cgo calls. */
#include "lk.h"
#include <sys/eventfd.h>
#include <unistd.h>

typedef struct
{
  uintptr_t handle;
  GstElement *sink;             /* ref: keeps the handle alive until released */
  GstSample *sample;
  GstMapInfo map;
  gint64 rt;
  int header, key;
} LkQueuedSample;

static GMutex lk_queue_lock;
static GCond lk_queue_done;
static GQueue lk_queue = G_QUEUE_INIT;
static guint lk_queue_pending;  /* queued or being sent */
static int lk_queue_fd = -1;

int
lk_sample_queue_start (void)
{
  lk_queue_fd = eventfd (0, EFD_NONBLOCK | EFD_CLOEXEC);
  return lk_queue_fd;
}

gboolean
lk_sample_queue_active (void)
{
  return lk_queue_fd >= 0;
}

/* Takes the sample (mapped) and a ref on sink. */
void
lk_sample_queue_push (uintptr_t handle, GstElement * sink, GstSample * sample,
    GstMapInfo * map, gint64 rt, int header, int key)
{
  LkQueuedSample *q = g_new (LkQueuedSample, 1);
  guint64 one = 1;
  gboolean first;

  q->handle = handle;
  q->sink = gst_object_ref (sink);
  q->sample = sample;
  q->map = *map;
  q->rt = rt;
  q->header = header;
  q->key = key;
  g_mutex_lock (&lk_queue_lock);
  first = g_queue_is_empty (&lk_queue);
  g_queue_push_tail (&lk_queue, q);
  lk_queue_pending++;
  g_mutex_unlock (&lk_queue_lock);
  /* One signal per non-empty transition: the reader drains the queue. */
  if (first && write (lk_queue_fd, &one, sizeof one) < 0) {
    /* EAGAIN: the counter is full, the reader is signalled anyway. */
  }
}

/* The oldest queued sample, NULL when the queue is empty. */
void *
lk_sample_queue_pop (uintptr_t * handle, void **data, size_t * size,
    int64_t * pts, int *header, int *key)
{
  LkQueuedSample *q;

  g_mutex_lock (&lk_queue_lock);
  q = g_queue_pop_head (&lk_queue);
  g_mutex_unlock (&lk_queue_lock);
  if (q == NULL)
    return NULL;
  *handle = q->handle;
  *data = q->map.data;
  *size = q->map.size;
  *pts = q->rt;
  *header = q->header;
  *key = q->key;
  return q;
}

void
lk_sample_queue_release (void *token)
{
  LkQueuedSample *q = token;
  GstBuffer *buf = gst_sample_get_buffer (q->sample);

  gst_buffer_unmap (buf, &q->map);
  gst_sample_unref (q->sample);
  gst_object_unref (q->sink);
  g_free (q);
  g_mutex_lock (&lk_queue_lock);
  if (--lk_queue_pending == 0)
    g_cond_broadcast (&lk_queue_done);
  g_mutex_unlock (&lk_queue_lock);
}

/* Waits until every queued sample has been sent: a serialized event (EOS,
 * new caps, a new stream) must not overtake the frames before it. */
void
lk_sample_queue_sync (void)
{
  if (lk_queue_fd < 0)
    return;
  g_mutex_lock (&lk_queue_lock);
  while (lk_queue_pending > 0)
    g_cond_wait (&lk_queue_done, &lk_queue_lock);
  g_mutex_unlock (&lk_queue_lock);
}
