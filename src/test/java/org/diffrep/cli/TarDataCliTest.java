package org.diffrep.cli;

import org.diffrep.data.TarShardFiles;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class TarDataCliTest {

    @TempDir
    Path dir;

    @Test
    void dataCommandReadsShardsAndRefusesBadOnes() throws IOException {
        Path shards = Files.createDirectories(dir.resolve("shards"));
        TarShardFiles.shards(shards);
        CliRun ok = CliRun.of("data", "--data", "tar:" + shards + ",channels=1,size=28");
        assertEquals(0, ok.code(), ok.err());
        assertTrue(ok.out().contains("50"), ok.out());

        Map<String, byte[]> m = new LinkedHashMap<>();
        m.put("a.png", TarShardFiles.png(TarShardFiles.digits(1).pixels()[0]));
        m.put("a.cls", TarShardFiles.text("x"));
        Path bad = TarShardFiles.tar(dir.resolve("bad/b.tar"), m);
        CliRun run = CliRun.of("data", "--data", "tar:" + bad.getParent());
        assertEquals(2, run.code(), run.err());
        assertTrue(run.message().contains(bad + "!a.cls") && run.message().contains("class index"), run.err());
    }
}
