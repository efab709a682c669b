package org.diffrep.spark;

import org.apache.spark.SparkEnv;
import org.apache.spark.SparkFiles;
import org.apache.spark.TaskContext;
import org.apache.spark.resource.ResourceInformation;

import java.nio.file.Path;

/**
 * What a task sets up on its executor before it touches LibTorch: where JavaCPP unpacks the native libraries,
 * how many threads it computes with, and which GPU Spark gave it.
 */
final class ExecutorSetup {

    /** JavaCPP's system property for its unpack directory (default ~/.javacpp/cache). */
    static final String CACHE_DIR = "org.bytedeco.javacpp.cachedir";

    private ExecutorSetup() {
    }

    /**
     * Gives this executor JVM its own JavaCPP cache directory unless the user chose one. Several executors on
     * one host unpacking into one shared {@code ~/.javacpp/cache} at once can read each other's half-written
     * libraries (bytedeco/javacpp#608); the executor's own SparkFiles directory is private to it and removed with
     * the application. In local mode the driver is the only JVM, so the default cache (unpacked once per
     * machine) stays. Must run before the first LibTorch class loads: JavaCPP reads the property once.
     */
    static synchronized void nativeCache() {
        SparkEnv env = SparkEnv.get();
        if (System.getProperty(CACHE_DIR) != null || env == null || "driver".equals(env.executorId())) {
            return;
        }
        System.setProperty(CACHE_DIR, Path.of(SparkFiles.getRootDirectory(), "javacpp").toString());
    }

    /** LibTorch and kernel threads of a task: the cores Spark gives it (spark.task.cpus, default 1). */
    static int threads(TaskContext tc) {
        return tc == null ? 0 : Math.max(1, tc.cpus());
    }

    /**
     * The device Spark assigned the task: {@code cuda:ADDR} for the first address of its "gpu" resource
     * (spark.task.resource.gpu.amount with a discovery script), else {@code cpu}.
     */
    static String device(TaskContext tc) {
        if (tc == null) {
            return "cpu";
        }
        ResourceInformation gpu = tc.resourcesJMap().get("gpu");
        return gpu == null || gpu.addresses().length == 0 ? "cpu" : "cuda:" + gpu.addresses()[0];
    }
}
