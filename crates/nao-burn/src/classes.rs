//! Fashion-MNIST class names and the "prompt" → class mapping.
//!
//! The embedded model is class-conditional; its "text encoder" is this table. A prompt is
//! matched after lower-casing and dropping a leading "a photo of a/an", "a/an/the", so
//! `"sneaker"`, `"A photo of a bag"` and `"ankle boots"` all resolve.

use crate::error::BurnModelError;

/// Number of classes.
pub const NUM_CLASSES: usize = 10;

/// The class index the denoiser uses for "no class" (the empty prompt, classifier-free
/// guidance's unconditional branch).
pub const NULL_CLASS: usize = NUM_CLASSES;

/// Canonical class names, in Fashion-MNIST label order.
pub const CLASS_NAMES: [&str; NUM_CLASSES] = [
    "t-shirt/top",
    "trouser",
    "pullover",
    "dress",
    "coat",
    "sandal",
    "shirt",
    "sneaker",
    "bag",
    "ankle boot",
];

/// File-name friendly class names (same order as [`CLASS_NAMES`]).
pub const CLASS_SLUGS: [&str; NUM_CLASSES] = [
    "tshirt-top",
    "trouser",
    "pullover",
    "dress",
    "coat",
    "sandal",
    "shirt",
    "sneaker",
    "bag",
    "ankle-boot",
];

/// Extra spellings accepted for each class.
const ALIASES: [(&str, usize); 12] = [
    ("t-shirt", 0),
    ("tshirt", 0),
    ("t shirt", 0),
    ("top", 0),
    ("tshirt-top", 0),
    ("t-shirt top", 0),
    ("trousers", 1),
    ("pants", 1),
    ("ankle-boot", 9),
    ("boot", 9),
    ("sneakers", 7),
    ("handbag", 8),
];

/// The classes trained with only 1 % of their images: the "rare concepts" of the demo.
pub const RARE_CLASSES: [usize; 2] = [8, 9];

/// Resolve a prompt to a class index; `Ok(None)` for the empty prompt (unconditional).
///
/// ```
/// use nao_burn::class_from_prompt;
/// assert_eq!(class_from_prompt("a photo of a bag").unwrap(), Some(8));
/// assert_eq!(class_from_prompt("").unwrap(), None);
/// assert!(class_from_prompt("a photo of a cat").is_err());
/// ```
pub fn class_from_prompt(prompt: &str) -> Result<Option<usize>, BurnModelError> {
    let mut p = prompt.trim().to_lowercase();
    if p.is_empty() {
        return Ok(None);
    }
    for prefix in [
        "a photo of an ",
        "a photo of a ",
        "a photo of ",
        "an ",
        "a ",
        "the ",
    ] {
        if let Some(rest) = p.strip_prefix(prefix) {
            p = rest.trim().to_string();
            break;
        }
    }
    let p = p.trim_end_matches('.').trim();
    if let Some(i) = CLASS_NAMES.iter().position(|n| *n == p) {
        return Ok(Some(i));
    }
    if let Some(i) = CLASS_SLUGS.iter().position(|n| *n == p) {
        return Ok(Some(i));
    }
    let singular = p.strip_suffix('s').unwrap_or(p);
    if let Some(i) = CLASS_NAMES.iter().position(|n| *n == singular) {
        return Ok(Some(i));
    }
    if let Some((_, i)) = ALIASES.iter().find(|(a, _)| *a == p) {
        return Ok(Some(*i));
    }
    Err(BurnModelError::UnknownPrompt {
        prompt: prompt.to_string(),
        known: CLASS_NAMES.join(", "),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_name_and_slug_resolves_to_itself() {
        for i in 0..NUM_CLASSES {
            assert_eq!(class_from_prompt(CLASS_NAMES[i]).unwrap(), Some(i));
            assert_eq!(class_from_prompt(CLASS_SLUGS[i]).unwrap(), Some(i));
            let photo = format!("A photo of a {}.", CLASS_NAMES[i]);
            assert_eq!(class_from_prompt(&photo).unwrap(), Some(i), "{photo}");
        }
    }

    #[test]
    fn aliases_and_plurals() {
        assert_eq!(class_from_prompt("sneakers").unwrap(), Some(7));
        assert_eq!(class_from_prompt("ankle boots").unwrap(), Some(9));
        assert_eq!(class_from_prompt("an ankle boot").unwrap(), Some(9));
        assert_eq!(class_from_prompt("T-shirt").unwrap(), Some(0));
        assert_eq!(class_from_prompt("   ").unwrap(), None);
    }

    #[test]
    fn unknown_prompt_lists_known_classes() {
        let e = class_from_prompt("a photo of a giraffe")
            .unwrap_err()
            .to_string();
        assert!(e.contains("giraffe"), "{e}");
        assert!(e.contains("ankle boot") && e.contains("sneaker"), "{e}");
    }
}
