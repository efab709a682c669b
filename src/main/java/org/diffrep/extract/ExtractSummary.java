package org.diffrep.extract;

import java.nio.file.Path;

/**
 * What an extraction did and where its time went.
 *
 * @param images         images in the store
 * @param computed       images computed by this run (fewer when shards were resumed)
 * @param sigmas         noise levels
 * @param layers         taps
 * @param seconds        wall time of the run
 * @param dataSeconds    reading and decoding batches (on the prefetch thread, overlapping the rest)
 * @param waitSeconds    time the compute thread waited for data
 * @param forwardSeconds noise injection and network forwards
 * @param poolSeconds    pooling, top-k and the NaN/Inf check
 * @param ioSeconds      writing shards and the final files
 * @param store          the store directory
 */
public record ExtractSummary(long images, long computed, int sigmas, int layers, double seconds, double dataSeconds,
                             double waitSeconds, double forwardSeconds, double poolSeconds, double ioSeconds,
                             Path store) {

    /** Images computed per second of wall time. */
    public double imagesPerSecond() {
        return seconds > 0 ? computed / seconds : 0;
    }

    /** The one-line summary printed at the end of a run. */
    public String line() {
        return String.format("extracted %d images (%d computed) x %d sigmas x %d layers in %.1f s: %.1f images/s;"
                        + " data %.1f s (waited %.1f s), forward %.1f s, pooling %.1f s, I/O %.1f s -> %s",
                images, computed, sigmas, layers, seconds, imagesPerSecond(), dataSeconds, waitSeconds,
                forwardSeconds, poolSeconds, ioSeconds, store);
    }
}
