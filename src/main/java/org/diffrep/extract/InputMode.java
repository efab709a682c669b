package org.diffrep.extract;

import org.diffrep.InvalidInputException;

import java.util.Locale;

/** What the network sees: the clean image conditioned on sigma, or the image with noise of level sigma. */
public enum InputMode {
    CLEAN, NOISY;

    public static InputMode parse(String s) {
        try {
            return valueOf(s.trim().toUpperCase(Locale.ROOT));
        } catch (IllegalArgumentException e) {
            throw InvalidInputException.field("input", ": '" + s + "' is not one of clean, noisy");
        }
    }

    public String id() {
        return name().toLowerCase(Locale.ROOT);
    }
}
