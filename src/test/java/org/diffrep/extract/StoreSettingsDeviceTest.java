package org.diffrep.extract;

import org.diffrep.io.Json;
import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The device in a store's settings: left out for the CPU (manifests as before), and a change is named on resume. */
class StoreSettingsDeviceTest {

    private static StoreSettings settings(String device) {
        return new StoreSettings("m.safetensors", "sha256:00", "builtin:mnist", 10, List.of("mid"), List.of(0.5f, 1f),
                "clean", 1, "mean", 0, 64, 1024, 128, 0, "all", null, 0, null, null, device);
    }

    @Test
    void cpuStoresKeepTheirManifestAndAGpuIsRecorded() throws Exception {
        assertFalse(Json.COMPACT.writeValueAsString(settings(null)).contains("device"));
        assertTrue(Json.COMPACT.writeValueAsString(settings("cuda")).contains("\"device\":\"cuda\""));
    }

    @Test
    void aChangedDeviceIsADifference() {
        assertEquals(List.of("device: stored cpu, requested cuda"), settings(null).differences(settings("cuda")));
        assertTrue(settings("cuda").differences(settings("cuda")).isEmpty());
    }
}
