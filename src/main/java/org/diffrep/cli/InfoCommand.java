package org.diffrep.cli;

import org.bytedeco.javacpp.Loader;
import org.diffrep.BuildInfo;
import org.diffrep.ops.CudaRuntime;
import org.diffrep.ops.Devices;
import org.diffrep.ops.Kernels;
import org.diffrep.ops.NativeOps;
import org.diffrep.ops.Threads;
import org.bytedeco.pytorch.global.torch;
import picocli.CommandLine.Command;

import java.io.PrintStream;

/** {@code diffrep info}: what this installation runs on. */
@Command(name = "info", mixinStandardHelpOptions = true,
        description = "Print Java and LibTorch versions, thread counts, the native library and CUDA status.")
final class InfoCommand implements Runnable {

    @Override
    public void run() {
        PrintStream out = System.out;
        out.printf("diffrep          %s%n", VersionProvider.version());
        out.printf("java             %s (%s)%n", System.getProperty("java.version"), System.getProperty("java.vm.name"));
        out.printf("libtorch         %s%n", BuildInfo.libtorch() + ", " + BuildInfo.libtorchArtifact());
        out.printf("cores            %d%n", Runtime.getRuntime().availableProcessors());
        out.printf("threads          libtorch intra-op %d, native kernels %d, openblas %d%n",
                Threads.torchThreads(), Threads.kernelThreads(), Threads.blasThreads());
        out.printf("native library   %s (ABI %d)%n", nativeLibraryPath(), NativeOps.diffrep_abi_version());
        out.printf("cpu kernels      %s%n", Kernels.cpuIsaStatus());
        out.printf("libtorch cpu     %s%n", torch.get_cpu_capability().getString());
        out.printf("cuda kernels     %s%n", NativeOps.diffrep_cuda_compiled() == 1 ? "compiled in" : "not compiled in");
        out.printf("cuda status      %s%n", Devices.nativeCudaStatus());
        out.printf("libtorch cuda    %s%n", Devices.torchCudaAvailable() ? "available" : "not available (CPU LibTorch or no GPU)");
        out.printf("cuda runtime     %s%n", CudaRuntime.loadable()
                ? CudaRuntime.devices().size() + " device(s)" : "bindings not loadable (CPU installation)");
        for (CudaRuntime.Device d : CudaRuntime.devices()) {
            out.printf("  cuda:%d         %s, sm_%d%d, %d SMs, %.1f GiB%n", d.ordinal(), d.name(), d.major(), d.minor(),
                    d.multiprocessors(), d.memoryBytes() / (1024.0 * 1024 * 1024));
        }
        out.printf("default device   %s%n", Devices.defaultDevice());
        String openmp = torch.get_openmp_version().getString();
        out.printf("libtorch openmp  %s%n", openmp.isEmpty() ? "-" : openmp);
    }

    private static String nativeLibraryPath() {
        String path = Loader.load(NativeOps.class);
        return path == null ? "(statically linked)" : path;
    }
}
