package org.diffrep.ops;

import org.bytedeco.cuda.cudart.CUevent_st;
import org.bytedeco.cuda.cudart.CUstream_st;
import org.bytedeco.cuda.cudart.cudaDeviceProp;
import org.bytedeco.cuda.global.cudart;
import org.bytedeco.javacpp.Loader;

import java.util.ArrayList;
import java.util.List;

/**
 * The CUDA runtime through the JavaCPP CUDA presets: device discovery and event timing on a
 * stream. Its native libraries come with the {@code gpu} Maven profile; without them every method
 * reports "not available" instead of failing.
 */
public final class CudaRuntime {

    /** One CUDA device as the runtime describes it. */
    public record Device(int ordinal, String name, int major, int minor, int multiprocessors, long memoryBytes) {
    }

    private static volatile Boolean loadable;

    private CudaRuntime() {
    }

    /** True when the CUDA runtime's native libraries can be loaded (gpu profile on a CUDA machine). */
    public static boolean loadable() {
        Boolean l = loadable;
        if (l == null) {
            try {
                Loader.load(cudart.class);
                l = true;
            } catch (Throwable t) {
                l = false;
            }
            loadable = l;
        }
        return l;
    }

    /** The devices the runtime sees; empty without the runtime, a driver or a GPU. */
    public static List<Device> devices() {
        List<Device> out = new ArrayList<>();
        if (!loadable()) {
            return out;
        }
        int[] count = new int[1];
        if (cudart.cudaGetDeviceCount(count) != 0) {
            return out;
        }
        for (int i = 0; i < count[0]; i++) {
            cudaDeviceProp p = new cudaDeviceProp();
            if (cudart.cudaGetDeviceProperties(p, i) == 0) {
                out.add(new Device(i, p.name().getString(), p.major(), p.minor(), p.multiProcessorCount(),
                        p.totalGlobalMem()));
            }
            p.close();
        }
        return out;
    }

    /**
     * Milliseconds that {@code work} takes on {@code stream} (null: the default stream), measured
     * with CUDA events so that asynchronous launches are timed, not just queued.
     */
    public static float time(CUstream_st stream, Runnable work) {
        if (!loadable()) {
            throw new IllegalStateException("the CUDA runtime is not available (build with -Pgpu on a CUDA machine)");
        }
        CUevent_st start = new CUevent_st();
        CUevent_st stop = new CUevent_st();
        check(cudart.cudaEventCreate(start), "cudaEventCreate");
        check(cudart.cudaEventCreate(stop), "cudaEventCreate");
        try {
            check(cudart.cudaEventRecord(start, stream), "cudaEventRecord");
            work.run();
            check(cudart.cudaEventRecord(stop, stream), "cudaEventRecord");
            check(cudart.cudaEventSynchronize(stop), "cudaEventSynchronize");
            float[] ms = new float[1];
            check(cudart.cudaEventElapsedTime(ms, start, stop), "cudaEventElapsedTime");
            return ms[0];
        } finally {
            cudart.cudaEventDestroy(start);
            cudart.cudaEventDestroy(stop);
        }
    }

    private static void check(int err, String what) {
        if (err != 0) {
            throw new IllegalStateException(what + ": " + cudart.cudaGetErrorString(err).getString());
        }
    }
}
