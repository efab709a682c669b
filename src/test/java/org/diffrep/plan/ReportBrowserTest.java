package org.diffrep.plan;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * A plan's report/index.html opened in headless Chromium by tools/check-report: it loads without
 * console errors and its screenshot is not blank. Skipped where no Chromium is installed.
 */
class ReportBrowserTest {

    @TempDir
    Path tmp;

    static boolean chromium() {
        return Stream.of(System.getenv("PATH").split(":"))
                .anyMatch(d -> Files.isExecutable(Path.of(d, "chromium")) || Files.isExecutable(Path.of(d, "chromium-browser")));
    }

    @Test
    void theReportRendersInHeadlessChromium() throws Exception {
        assumeTrue(chromium(), "no chromium on PATH");
        Path model = PlanFixtures.tinyUnet(tmp.resolve("a.safetensors"), 1);
        Path out = tmp.resolve("run");
        Path file = PlanFixtures.write(tmp.resolve("plan.yaml"), PlanFixtures.plan(out, Map.of("a", model)));
        PlanRunner.Result r = new PlanRunner(PlanParser.read(file, null)).log(null).run();
        assertEquals(0, r.failed());
        Path page = out.resolve("report/index.html");
        Process p = new ProcessBuilder("tools/check-report", page.toString(), "1200x1400")
                .redirectErrorStream(true).start();
        String output = new String(p.getInputStream().readAllBytes());
        assertTrue(p.waitFor(180, TimeUnit.SECONDS), "chromium finished");
        assertEquals(0, p.exitValue(), output);
        assertTrue(output.contains("check-report: ok"), output);
        assertTrue(Files.size(out.resolve("report/index.png")) > 10_000, "a screenshot with content");
    }
}
