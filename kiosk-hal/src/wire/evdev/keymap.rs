//! Linux key codes to characters, US keyboard layout (what scanners emulate
//! by default), written out from `linux/input-event-codes.h`.

use super::{KEY_CAPSLOCK, KEY_ENTER, KEY_KPENTER, KEY_LEFTSHIFT, KEY_RIGHTSHIFT, KEY_TAB};

/// What a key code means to a scanner reader.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum KeyClass {
    /// A printable character (already shifted as asked).
    Char(char),
    /// Left or right Shift.
    Shift,
    /// Caps Lock (toggles letters' case on press).
    CapsLock,
    /// Enter or keypad Enter: the usual end of a scan.
    Enter,
    /// Tab: the end of a scan on scanners set up with a Tab suffix.
    Tab,
    /// A modifier or lock key that changes nothing here (Ctrl, Alt, Meta,
    /// Num Lock).
    Ignored,
    /// A key with no meaning in a scanned code (F-keys, arrows, …).
    Unknown,
}

/// Row keys from `KEY_1` (2) to `KEY_EQUAL` (13): unshifted, shifted.
const DIGIT_ROW: [(char, char); 12] = [
    ('1', '!'),
    ('2', '@'),
    ('3', '#'),
    ('4', '$'),
    ('5', '%'),
    ('6', '^'),
    ('7', '&'),
    ('8', '*'),
    ('9', '('),
    ('0', ')'),
    ('-', '_'),
    ('=', '+'),
];

/// Letters by code: `KEY_Q` 16 … `KEY_P` 25, `KEY_A` 30 … `KEY_L` 38,
/// `KEY_Z` 44 … `KEY_M` 50.
fn letter(code: u16) -> Option<char> {
    let row = |start: u16, letters: &[u8]| {
        code.checked_sub(start)
            .and_then(|i| letters.get(usize::from(i)))
            .map(|&b| char::from(b))
    };
    row(16, b"qwertyuiop")
        .or_else(|| row(30, b"asdfghjkl"))
        .or_else(|| row(44, b"zxcvbnm"))
}

/// Punctuation keys outside the digit row: (code, unshifted, shifted).
const PUNCTUATION: [(u16, char, char); 11] = [
    (26, '[', '{'),  // KEY_LEFTBRACE
    (27, ']', '}'),  // KEY_RIGHTBRACE
    (39, ';', ':'),  // KEY_SEMICOLON
    (40, '\'', '"'), // KEY_APOSTROPHE
    (41, '`', '~'),  // KEY_GRAVE
    (43, '\\', '|'), // KEY_BACKSLASH
    (51, ',', '<'),  // KEY_COMMA
    (52, '.', '>'),  // KEY_DOT
    (53, '/', '?'),  // KEY_SLASH
    (57, ' ', ' '),  // KEY_SPACE
    (86, '\\', '|'), // KEY_102ND (the ISO key; US layout maps it like backslash)
];

/// Keypad keys (Num Lock on, as scanners assume): code, character.
const KEYPAD: [(u16, char); 15] = [
    (71, '7'), // KEY_KP7
    (72, '8'), // KEY_KP8
    (73, '9'), // KEY_KP9
    (74, '-'), // KEY_KPMINUS
    (75, '4'), // KEY_KP4
    (76, '5'), // KEY_KP5
    (77, '6'), // KEY_KP6
    (78, '+'), // KEY_KPPLUS
    (79, '1'), // KEY_KP1
    (80, '2'), // KEY_KP2
    (81, '3'), // KEY_KP3
    (82, '0'), // KEY_KP0
    (83, '.'), // KEY_KPDOT
    (55, '*'), // KEY_KPASTERISK
    (98, '/'), // KEY_KPSLASH
];

/// Modifiers and locks that change nothing in a scanned code: Ctrl (29,
/// 97), Alt (56, 100), Meta (125, 126), Num Lock (69), Scroll Lock (70).
const IGNORED: [u16; 8] = [29, 97, 56, 100, 125, 126, 69, 70];

/// What key `code` means with Shift held (`shift`) and Caps Lock on
/// (`caps`, which changes letters only, as on a PC).
pub fn key_char(code: u16, shift: bool, caps: bool) -> KeyClass {
    match code {
        KEY_ENTER | KEY_KPENTER => return KeyClass::Enter,
        KEY_TAB => return KeyClass::Tab,
        KEY_LEFTSHIFT | KEY_RIGHTSHIFT => return KeyClass::Shift,
        KEY_CAPSLOCK => return KeyClass::CapsLock,
        _ => {}
    }
    if let Some(c) = letter(code) {
        return KeyClass::Char(if shift != caps {
            c.to_ascii_uppercase()
        } else {
            c
        });
    }
    let pick = |(plain, shifted): (char, char)| KeyClass::Char(if shift { shifted } else { plain });
    if let Some(&pair) = code
        .checked_sub(2)
        .and_then(|i| DIGIT_ROW.get(usize::from(i)))
    {
        return pick(pair);
    }
    if let Some(&(_, plain, shifted)) = PUNCTUATION.iter().find(|(c, _, _)| *c == code) {
        return pick((plain, shifted));
    }
    if let Some(&(_, c)) = KEYPAD.iter().find(|(k, _)| *k == code) {
        return KeyClass::Char(c);
    }
    if IGNORED.contains(&code) {
        return KeyClass::Ignored;
    }
    KeyClass::Unknown
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Codes typed in from `linux/input-event-codes.h`, not derived from
    /// the tables above.
    #[test]
    fn kernel_codes_map_to_the_us_layout() {
        let plain = |c| key_char(c, false, false);
        let shifted = |c| key_char(c, true, false);
        assert_eq!(plain(2), KeyClass::Char('1')); // KEY_1
        assert_eq!(plain(10), KeyClass::Char('9')); // KEY_9
        assert_eq!(plain(11), KeyClass::Char('0')); // KEY_0
        assert_eq!(shifted(3), KeyClass::Char('@')); // KEY_2
        assert_eq!(plain(30), KeyClass::Char('a')); // KEY_A
        assert_eq!(shifted(30), KeyClass::Char('A'));
        assert_eq!(plain(16), KeyClass::Char('q')); // KEY_Q
        assert_eq!(plain(25), KeyClass::Char('p')); // KEY_P
        assert_eq!(plain(38), KeyClass::Char('l')); // KEY_L
        assert_eq!(plain(44), KeyClass::Char('z')); // KEY_Z
        assert_eq!(plain(50), KeyClass::Char('m')); // KEY_M
        assert_eq!(plain(52), KeyClass::Char('.')); // KEY_DOT
        assert_eq!(shifted(39), KeyClass::Char(':')); // KEY_SEMICOLON
        assert_eq!(plain(53), KeyClass::Char('/')); // KEY_SLASH
        assert_eq!(plain(12), KeyClass::Char('-')); // KEY_MINUS
        assert_eq!(plain(82), KeyClass::Char('0')); // KEY_KP0
        assert_eq!(plain(79), KeyClass::Char('1')); // KEY_KP1
        assert_eq!(plain(28), KeyClass::Enter); // KEY_ENTER
        assert_eq!(plain(96), KeyClass::Enter); // KEY_KPENTER
        assert_eq!(plain(42), KeyClass::Shift); // KEY_LEFTSHIFT
        assert_eq!(plain(54), KeyClass::Shift); // KEY_RIGHTSHIFT
        assert_eq!(plain(29), KeyClass::Ignored); // KEY_LEFTCTRL
        assert_eq!(plain(59), KeyClass::Unknown); // KEY_F1
        assert_eq!(plain(0), KeyClass::Unknown); // KEY_RESERVED
        assert_eq!(plain(1), KeyClass::Unknown); // KEY_ESC
        assert_eq!(plain(u16::MAX), KeyClass::Unknown);
        // Caps Lock changes letters only; Shift under it gives lower case.
        assert_eq!(key_char(30, false, true), KeyClass::Char('A'));
        assert_eq!(key_char(30, true, true), KeyClass::Char('a'));
        assert_eq!(key_char(2, false, true), KeyClass::Char('1'));
    }

    #[test]
    fn no_code_panics_and_every_character_is_ascii() {
        for code in 0..=u16::MAX {
            for (s, c) in [(false, false), (true, false), (false, true), (true, true)] {
                if let KeyClass::Char(ch) = key_char(code, s, c) {
                    assert!(ch.is_ascii_graphic() || ch == ' ', "{code}");
                }
            }
        }
    }
}
